#!/usr/bin/env bash
# check-includes.sh - includes point one way: a folder of src/ (or tools/) includes only folders below it.
#
#   scripts/check-includes.sh [ROOT]      (ROOT: the source tree, default: this script's ..)
#
# The order, top to bottom (a folder may include its own headers, the
# public include/vsw/ ones, and those of every folder it reaches below):
#
#   tools -> ctl -> dp -> switch -> port -> { vhost_user, packet } -> virtio -> lib
#                     dp -> flow -> packet -> lib
#   tools -> frontend -> { virtio, packet } -> lib
#
# frontend (the driver side: vuser, and vsw-bench's TCP stream) takes the
# one virtio-net header and checksum modules from packet/, as the ports do.
#
# flow (key, classifier, actions) works on header bytes and knows no port,
# switch or data path: the data path hands it headers and turns its
# outputs into tx.
#
# switch sits above port because a switch decision is about ports (it
# reads struct port and struct pkt); ports are leaves that know neither the
# switch nor the data path.  A new folder under src/ must be placed here,
# else every include of or from it is reported.  Prints one line per
# violation ("FILE:LINE: A includes B (not below it)") and a closing
# "N passed, N failed" line for run-tests.sh; exit 1 on any violation.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}

# What each folder may include, besides itself.
declare -A may=(
	[lib]=""
	[virtio]="lib"
	[packet]="lib"
	[flow]="packet lib"
	[vhost_user]="virtio lib"
	[port]="vhost_user packet virtio lib"
	[switch]="port vhost_user packet virtio lib"
	[dp]="flow switch port vhost_user packet virtio lib"
	[ctl]="dp flow switch port vhost_user packet virtio lib"
	[tools]="ctl dp flow switch port vhost_user frontend packet virtio lib"
	[frontend]="packet virtio lib"
)

# Known exceptions, FILE:HEADER, each to go (none today: the verdict
# batch the switch fills is packet/batch.h, below both switch and dp).
known=()

bad=0
files=0
cd "$root" || exit 1
for f in src/*/*.[ch] tools/*.c; do
	[ -f "$f" ] || continue
	files=$((files + 1))
	case $f in
	tools/*) from=tools ;;
	*) from=${f#src/}; from=${from%%/*} ;;
	esac
	if [ -z "${may[$from]+x}" ]; then
		echo "$f: folder src/$from/ has no place in the include order (scripts/check-includes.sh)"
		bad=$((bad + 1))
		continue
	fi
	while IFS=: read -r line inc; do
		to=${inc%%/*}
		[ "$to" = "$inc" ] && continue		# no folder: a header next to the file
		[ "$to" = vsw ] && continue		# the public headers (include/vsw)
		[ "$to" = "$from" ] && continue
		case " ${may[$from]} " in *" $to "*) continue ;; esac
		case " ${known[*]} " in *" $f:$inc "*)
			echo "$f:$line: $from includes $to ($inc): known exception (listed above)"
			continue ;;
		esac
		echo "$f:$line: $from includes $to ($inc): not below it"
		bad=$((bad + 1))
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f" | \
		 sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1:\2/')
done

if [ "$bad" -eq 0 ]; then
	echo "includes: $files files, every include points down"
	echo "1 passed, 0 failed"
	exit 0
fi
echo "0 passed, 1 failed ($bad includes against the order)"
exit 1
