#!/usr/bin/env bash
# nbdinfo sees every feature the export advertises, the allocation map of
# a sparse file, the export list, and a read-only export without any of
# the write features.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd nbdinfo
cb_init

MiB=$((1 << 20))
SIZE=$((16 * MiB))
make_disk "$T/disk" $SIZE
# Data at [1M, 2M) and [8M, 8M+64K); holes everywhere else.
head -c $MiB /dev/urandom | dd of="$T/disk" bs=64K seek=16 conv=notrunc status=none
head -c 65536 /dev/urandom | dd of="$T/disk" bs=64K seek=128 conv=notrunc status=none
[ "$(stat -c %s "$T/disk")" -eq $SIZE ] || fail "dd changed the file size"
make_ci "$T/disk"
start_unix
URI=$NBD_URI
[ "$URI" = "nbd+unix:///?socket=$SOCK" ] || fail "unexpected URI '$URI'"

# --- every advertised feature
J=$(export_json "$URI") || fail "nbdinfo --json failed"
expect() {
	local got

	got=$(jget "$J" "$1") || fail "cannot evaluate $1"
	[ "$got" = "$2" ] || fail "nbdinfo: $1 is '$got', expected '$2'"
}
expect 'd["protocol"]' newstyle-fixed
expect 'd["structured"]' true
expect 'len(d["exports"])' 1
expect 'e["export-name"]' ''
expect 'e["contexts"]' '["base:allocation"]'
expect 'e["export-size"]' $SIZE
expect 'e["is_read_only"]' false
expect 'e["is_rotational"]' false
for f in can_cache can_df can_fast_zero can_flush can_fua can_multi_conn can_trim can_zero; do
	expect "e[\"$f\"]" true
done
expect 'e["block_size_minimum"]' 1
expect 'e["block_size_preferred"]' 4096
expect 'e["block_size_maximum"]' $((32 * MiB))

# --- the allocation map
map_of() {
	timeout 60 nbdinfo --map "$URI" | awk '{ print $1, $2, $3 }'
}
# Some filesystems cannot report holes at this granularity; the server can
# only pass on what lseek(SEEK_DATA) says.
fs_has_holes=$("$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(int(os.lseek(fd, 0, os.SEEK_DATA) == 1 << 20 and
          os.lseek(fd, 1 << 20, os.SEEK_HOLE) == 2 << 20))' "$T/disk")
if [ "$fs_has_holes" = 1 ]; then
	want="0 $MiB 3
$MiB $MiB 0
$((2 * MiB)) $((6 * MiB)) 3
$((8 * MiB)) 65536 0
$((8 * MiB + 65536)) $((SIZE - 8 * MiB - 65536)) 3"
	got=$(map_of) || fail "nbdinfo --map failed"
	[ "$got" = "$want" ] || fail "map is
$got
expected
$want"
	timeout 60 nbdinfo --map "$URI" | grep -q 'hole,zero' ||
		fail "nbdinfo --map does not describe holes as hole,zero"
	# Only 2 MiB of 16 are data.
	got=$(timeout 60 nbdinfo --map --totals "$URI" | awk '$3 == 0 { print $1 }')
	[ "$got" = $((MiB + 65536)) ] || fail "--totals says $got bytes of data"
else
	note "this filesystem does not report holes; checking the map covers the export"
	got=$(map_of | awk '{ s += $2 } END { print s }')
	[ "$got" = $SIZE ] || fail "map covers $got bytes, not $SIZE"
fi

# --- the export list
L=$(timeout 60 nbdinfo --list --json "$URI") || fail "nbdinfo --list failed"
[ "$(jget "$L" 'len(d["exports"])')" = 1 ] || fail "--list: not exactly one export: $L"
[ "$(jget "$L" 'e["export-name"]')" = "" ] || fail "--list: wrong default name"
timeout 60 nbdinfo --list "$URI" > "$T/list.txt" || fail "nbdinfo --list (text) failed"
grep -q 'export=""' "$T/list.txt" || fail "--list does not show the default export"

# --- --size and --can
[ "$(timeout 60 nbdinfo --size "$URI")" = $SIZE ] || fail "nbdinfo --size"
for c in write flush fua trim zero fast-zero multi-conn cache df structured-reply; do
	timeout 60 nbdinfo --can "$c" "$URI" || fail "nbdinfo --can $c says no"
done
stop_server "$SERVER_PID"
[ ! -e "$SOCK" ] || fail "socket $SOCK left behind"

# --- read-only: no write features
start_unix --read-only
J=$(export_json "$NBD_URI") || fail "nbdinfo --json (read-only) failed"
expect 'e["is_read_only"]' true
for f in can_trim can_zero can_fua can_fast_zero; do
	expect "e[\"$f\"]" false
done
# Still advertised: reads never conflict across connections.
expect 'e["can_multi_conn"]' true
expect 'e["can_cache"]' true
expect 'e["export-size"]' $SIZE
timeout 60 nbdinfo --can write "$NBD_URI" && fail "nbdinfo --can write on a read-only export"
timeout 60 nbdinfo --is read-only "$NBD_URI" || fail "nbdinfo --is read-only says no"
stop_server "$SERVER_PID"

# --- a named export shows up under its name in the list
start_unix --export-name vol-1
L=$(timeout 60 nbdinfo --list --json "$NBD_URI") || fail "nbdinfo --list (named) failed"
[ "$(jget "$L" 'e["export-name"]')" = vol-1 ] || fail "--list does not show vol-1: $L"
stop_server "$SERVER_PID"
exit 0
