#!/usr/bin/env bash
# The nfs backend against a real NFS server, nfs-ganesha (VFS) started here
# on 127.0.0.1, with connection_info shaped as Cinder's NFS drivers send it:
# a raw volume file over NFSv3 (rpcbind) and NFSv4 ("-o vers=4") read and
# written through NBD (nbdcopy, qemu-io) and checked against the file on
# the server; ext4 on a loop device over the FUSE export; a qcow2 file, an
# unknown NFS version and a missing file are refused with the reason.
# local-attach against a fake Cinder whose attachment update leaves out
# the format: asked of the attachment, raw served, qcow2 refused.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
. "$TESTS_SRCDIR/nfs-lib.sh" || exit 99
nfs_init
require_cmd nbdcopy qemu-io qemu-img
cb_init
nfs_start

for opts in "" "-o vers=4"; do
	v=$([ -z "$opts" ] && echo 3 || echo 4)
	# A new file each time: ganesha caches what a name was, and files
	# changed behind its back are not what a Cinder share sees anyway.
	vol=$T/export/vol$v.img
	make_disk "$vol" 32M random
	nfs_ci "vol$v.img" "$opts" raw
	start_unix
	nbdcopy "$NBD_URI" "$T/read" || fail "nbdcopy from the NFSv$v volume"
	cmp "$T/read" "$vol" || fail "NFSv$v: the volume reads other data than the file"
	make_disk "$T/in" 32M random
	nbdcopy --flush --request-size=4194304 "$T/in" "$NBD_URI" || fail "nbdcopy to the NFSv$v volume"
	cmp "$T/in" "$vol" || fail "NFSv$v: the file does not hold what was written"
	qemu-io -f raw -c "write -P 0x5a 1M 9M" -c "read -P 0x5a 1M 9M" -c flush "$NBD_URI" \
		> "$T/qio" 2>&1 || fail "qemu-io on the NFSv$v volume: $(cat "$T/qio")"
	! grep -q "Pattern verification failed" "$T/qio" || fail "qemu-io read back another pattern"
	stop_server "$SERVER_PID"
	echo "ok - NFSv$v: reads and writes (up to 9 MiB a request) match the file on the server"
done

# A filesystem on the volume, through FUSE and a loop device.
if built fuse; then
	make_disk "$T/export/fs.img" 64M
	nfs_ci fs.img "-o vers=4" raw
	mkdir "$T/fuse"
	start_server --nbd "unix:$T/fs.sock" --fuse "$T/fuse" --loop
	DEV=$(sed -n 's/^loop: //p' "$SERVER_OUT")
	ext4_through "$DEV" "$T/export/fs.img"
	echo "ok - ext4 on a loop device over the FUSE export of the NFS volume"
fi

# refused CI_ARGS PATTERN: the export fails, naming the cause.
refused() {
	nfs_ci "$1" "$2" "$3"
	! "$CINDER_BRICK" export --connection-info "$T/ci.json" --nbd "unix:$T/r.sock" \
		2> "$T/err" || fail "export of $1 ($2 $3) succeeded"
	grep -q "$4" "$T/err" || fail "export of $1 ($2 $3): '$4' not in: $(cat "$T/err")"
}
qemu-img create -q -f qcow2 "$T/export/vol.qcow2" 64M
refused vol.qcow2 "" qcow2 'format is "qcow2": only raw'
refused vol3.img "-o vers=2" raw "only versions 3 and 4"
refused missing.img "" raw "cannot open 127.0.0.1:$T/export/missing.img"
echo "ok - refused: a qcow2 file, NFS version 2, a missing file"

# --- local-attach of an NFS volume, against a fake Cinder whose answer to
# the attachment update lacks "format", as some drivers' do: the engine
# asks the attachment for it, serves a raw file, refuses a qcow2 one.
built fuse || exit 0
start_fake_cinder "$T/cinder.log" "$T/ci.json" 1d6f5a4e-3f1c-4a36-9f6e-000000000002
echo format > "$T/ci.json.put-omits"
nfs_ci vol.qcow2 "-o vers=4" qcow2
! "$CINDER_BRICK" local-attach --export fuse fakevol > "$T/out" 2> "$T/err" ||
	fail "local-attach of a qcow2 NFS volume succeeded"
grep -q 'format is "qcow2": only raw' "$T/err" || fail "no refusal naming qcow2: $(cat "$T/err")"
grep -q "^GET /v3/p1/attachments/" "$T/cinder.log" || fail "the attachment was not asked for its format"
grep -q "^DELETE /v3/p1/attachments/" "$T/cinder.log" || fail "the refused attach was not rolled back"
make_disk "$T/export/att.img" 16M random
nfs_ci att.img "" raw
"$CINDER_BRICK" local-attach --json --export fuse fakevol > "$T/out" 2> "$T/err" ||
	fail "local-attach of a raw NFS volume: $(cat "$T/err")"
SERVER_PIDS+=("$(jq -r .pid "$T/out")")
DEV=$(jq -r .device "$T/out")
cmp "$DEV" "$T/export/att.img" || fail "$DEV does not read as the NFS volume file"
"$CINDER_BRICK" local-detach fakevol 2> "$T/err" || fail "local-detach: $(cat "$T/err")"
echo "ok - local-attach of NFS volumes: format asked of the attachment, raw served, qcow2 refused"
