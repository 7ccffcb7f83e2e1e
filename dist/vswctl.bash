# vswctl.bash - bash completion for vswctl: commands and options read from `vswctl --help`, which
# prints vswctl's command table, port types and keys from `vswctl complete` (one word a line, from
# the port tables), so it stays in step with the installed binary.

_vswctl_help()
{
	vswctl --help 2>/dev/null
}

# The synopsis lines of the commands ("  port add NAME TYPE [KEY=VALUE...]").
_vswctl_synopses()
{
	_vswctl_help | sed -n '/^commands:/,$p' | sed -n 's/^  \([a-z][^ ].*\)$/\1/p' | sed 's/   .*//'
}

_vswctl_ports()
{
	vswctl "${_vswctl_ctl[@]}" --json show 2>/dev/null | sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p'
}

_vswctl()
{
	local cur prev words cword
	_init_completion || return
	local -a _vswctl_ctl=()
	local i w syn typed="" nwords=0

	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == --ctl ]]; then
			_vswctl_ctl=(--ctl "${words[i + 1]}")
			((i++))
			continue
		fi
		[[ $w == -* ]] && continue
		typed+="${typed:+ }$w"
		((nwords++))
	done
	case $prev in
	--ctl) _filedir; return ;;
	-w) _filedir pcap; return ;;
	esac
	if [[ $cur == -* && $nwords -eq 0 ]]; then
		COMPREPLY=($(compgen -W '--ctl --json --help' -- "$cur"))
		return
	fi
	# The commands whose words start with what was typed: offer their next word.
	local next="" match=""
	while IFS= read -r syn; do
		local -a sw=($syn)
		local cmdwords=() k
		for k in "${sw[@]}"; do
			[[ $k =~ ^[a-z][a-z|-]*$ ]] || break
			cmdwords+=("$k")
		done
		local cmd="${cmdwords[*]}"
		if ((nwords < ${#cmdwords[@]})); then
			[[ "$cmd " == "$typed${typed:+ }"* ]] && next+=" ${cmdwords[nwords]//|/ }"
		elif [[ " $typed " == " $cmd "* ]]; then
			match=$syn
		fi
	done < <(_vswctl_synopses)
	if [[ -n $next && -z $match ]]; then
		COMPREPLY=($(compgen -W "$(printf '%s\n' $next | sort -u)" -- "$cur"))
		return
	fi
	[[ -n $match ]] || return
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(grep -oE -- '(^|[ [])--?[a-z][a-z-]*' <<<"$match" | tr -d ' [') --json" -- "$cur"))
	elif [[ $match == "port add "* ]]; then
		if ((nwords == 3)); then
			COMPREPLY=($(compgen -W "$(vswctl complete port-types 2>/dev/null)" -- "$cur"))
		elif ((nwords >= 4)); then
			local type
			type=$(awk '{print $4}' <<<"$typed")	# port add NAME TYPE
			# The type's keys and every type's (mac=, tag=, vlan_mode=...), from vswctl's tables.
			COMPREPLY=($(compgen -W "$(vswctl complete port-keys "$type" 2>/dev/null)" -- "$cur"))
			compopt -o nospace
		fi
	elif [[ $match == *" NAME"* || $match == *" PORT"* ]]; then
		COMPREPLY=($(compgen -W "$(_vswctl_ports)" -- "$cur"))
	fi
}
complete -F _vswctl vswctl
