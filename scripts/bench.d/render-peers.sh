# shellcheck shell=bash
# Sourced by scripts/bench: tables for the matrices whose peers each have
# a target of their own (rbd, nfs: cinder-brick against the backend driven
# directly, and against qemu-nbd), from results.tsv.
#
# For each peer, "paired" is the median over rounds of cinder-brick / that
# peer within one round (the servers ran back to back), as in render();
# ratios are truncated to two decimals.  The verdict names, per peer, the
# workloads that miss its target.  The server "ref" (--compare) is no peer:
# "vs ref" is cinder-brick's paired ratio to it, with a verdict of its own
# against $ref_target; its label comes through the environment, as in
# render().

render_peers() {	# FORMAT MATRIX "SERVER..." "PEER:TARGET..." WORKLOAD-SPEC...
	local fmt=$1 matrix=$2 server_list=$3 targets=$4
	shift 4
	printf '%s\n' "$@" | REF_LABEL=$ref_label awk -F'|' -v fmt="$fmt" -v matrix="$matrix" -v servers="$server_list" \
		-v targets="$targets" -v rtarget="$ref_target" -v tsv="$tsv" -v ncpu="$(nproc)" "$awk_stats"'
	# The median over rounds of srv[1] / peer in the same round; -1 when none.
	function paired(w, peer,    rep, a, b, plist) {
		plist = ""
		for (rep = 1; rep <= nrep; rep++) {
			a = wid[w] SUBSEP srv[1]; b = wid[w] SUBSEP peer
			if ((a, rep) in one && (b, rep) in one && one[b, rep] > 0)
				plist = plist " " one[a, rep] / one[b, rep]
		}
		return median(plist)
	}
	# "a b c" from the per-round ratios, for the spread of the rounds.
	function spread(w, peer,    rep, a, b, s) {
		s = ""
		for (rep = 1; rep <= nrep; rep++) {
			a = wid[w] SUBSEP srv[1]; b = wid[w] SUBSEP peer
			if ((a, rep) in one && (b, rep) in one && one[b, rep] > 0)
				s = s (s == "" ? "" : " ") sprintf("%.2f", one[a, rep] / one[b, rep])
		}
		return s
	}
	BEGIN {
		ns = split(servers, srv, " ")
		ri = 0	# the column of ref, if it ran
		for (s = 2; s <= ns; s++) if (srv[s] == "ref") ri = s
		reflabel = ENVIRON["REF_LABEL"]
		np = split(targets, tp, " ")
		for (p = 1; p <= np; p++) { split(tp[p], kv, ":"); peer[p] = kv[1]; tgt[p] = kv[2] + 0 }
		maxload = 0
		while ((getline line < tsv) > 0) {
			split(line, f, "\t")
			if (f[1] != matrix) continue
			k = f[2] SUBSEP f[3]
			if (f[4] + 0 > nrep) nrep = f[4] + 0
			if (f[10] + 0 > maxload) maxload = f[10] + 0
			if (f[11] == "ok") {
				iops[k] = iops[k] " " f[5]; one[k, f[4]] = f[5] + 0
				bw[k] = bw[k] " " f[6]; lat[k] = lat[k] " " f[7]; cpu[k] = cpu[k] " " f[8]
				fcpu[k] = fcpu[k] " " f[9]
				runs[k] = runs[k] (runs[k] == "" ? "" : " ") commas(f[5])
			} else {
				runs[k] = runs[k] (runs[k] == "" ? "" : " ") "fail"
			}
			seen = 1
		}
	}
	{ nw++; wid[nw] = $1; wlabel[nw] = $2 }
	END {
		if (!seen) exit
		if (fmt == "md") {
			printf "| workload |"; for (s = 1; s <= ns; s++) printf " %s IOPS |", srv[s]
			for (p = 1; p <= np; p++) printf " vs %s (target %.2fx) | rounds |", peer[p], tgt[p]
			if (ri) printf " vs ref | rounds |"
			printf "\n|---|"; for (s = 1; s <= ns; s++) printf "---:|"
			for (p = 1; p <= np; p++) printf "---:|---|"
			if (ri) printf "---:|---|"
			printf "\n"
		} else {
			printf "%-24s", "workload"; for (s = 1; s <= ns; s++) printf " %12s", srv[s]
			for (p = 1; p <= np; p++) printf " %12s", "vs " peer[p]
			if (ri) printf " %12s", "vs ref"
			printf "\n"
		}
		rmet = 0; rshort = ""
		for (w = 1; w <= nw; w++) {
			for (s = 1; s <= ns; s++) m[s] = median(iops[wid[w] SUBSEP srv[s]])
			if (fmt == "md") printf "| %s |", wlabel[w]; else printf "%-24s", wlabel[w]
			for (s = 1; s <= ns; s++) printf(fmt == "md" ? " %s |" : " %12s", cell(m[s]))
			for (p = 1; p <= np; p++) {
				pr = paired(w, peer[p])
				if (pr >= 0 && trunc2(pr) >= tgt[p]) met[p]++
				else miss[p] = miss[p] (miss[p] == "" ? "" : ", ") wlabel[w] " " ratio_str(pr)
				if (fmt == "md") printf " %s | %s |", ratio_str(pr), spread(w, peer[p])
				else printf " %12s", ratio_str(pr)
			}
			if (ri) {
				rr = paired(w, "ref")
				if (rr >= 0 && trunc2(rr) >= rtarget + 0) rmet++
				else rshort = rshort (rshort == "" ? "" : ", ") wlabel[w] " " ratio_str(rr)
				if (fmt == "md") printf " %s | %s |", ratio_str(rr), spread(w, "ref")
				else printf " %12s", ratio_str(rr)
			}
			printf "\n"
		}
		verdict = toupper(matrix) ": paired ratio"
		for (p = 1; p <= np; p++) {
			verdict = verdict sprintf("%s >= %.2fx %s met on %d of %d workloads", p > 1 ? ";" : "",
				tgt[p], peer[p], met[p], nw)
			if (miss[p] != "") verdict = verdict sprintf(" (NOT met: %s)", miss[p])
		}
		rverdict = ""
		if (ri) {
			rverdict = sprintf("%s vs %s: paired ratio >= %.2fx on %d of %d workloads", toupper(matrix), reflabel, rtarget, rmet, nw)
			if (rshort != "") rverdict = rverdict sprintf("; below on: %s", rshort)
		}
		noisy = maxload > ncpu ? \
			sprintf("load average reached %.1f on %d CPUs during the runs: other processes competed, numbers are noisy", maxload, ncpu) : ""
		if (fmt == "md") {
			printf "\nvs PEER = paired ratio: median over rounds of %s / PEER within the same round; rounds = that ratio in each round", srv[1]
			if (ri) printf "; vs ref: the same against ref (the reference%s), which is no peer", reflabel == "ref" ? "" : ", " reflabel
			printf ".\n"
			printf "\n**%s**\n\n", verdict
			if (ri) printf "**%s**\n\n", rverdict
			if (noisy != "") printf "Note: %s.\n\n", noisy
			printf "Per server, medians.  Server CPU: user+system time of the server process during the run per I/O (none for direct, whose backend runs in the client).  Client CPU: of the client (fio: its job thread only; qemu-img bench: the whole process).\n\n"
			printf "| workload | server | IOPS | MiB/s | mean latency us | server CPU us/IO | client CPU %% | IOPS of each round |\n"
			printf "|---|---|---:|---:|---:|---:|---:|---|\n"
			for (w = 1; w <= nw; w++) for (s = 1; s <= ns; s++) {
				k = wid[w] SUBSEP srv[s]
				med = median(iops[k])
				if (med < 0) printf "| %s | %s | fail | | | | | %s |\n", wlabel[w], srv[s], runs[k]
				else printf "| %s | %s | %s | %.1f | %.1f | %.1f | %.0f | %s |\n", wlabel[w], srv[s], commas(med),
					median(bw[k]), median(lat[k]), median(cpu[k]), median(fcpu[k]), runs[k]
			}
			printf "\n"
		} else {
			print verdict
			if (ri) print rverdict
			if (noisy != "") print "warning: " noisy
		}
	}'
}
