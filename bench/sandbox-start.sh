#!/usr/bin/env bash
# Starts one proxy in a network of its own and says whether it started:
#   unshare -n -p -f bash bench/sandbox-start.sh SECONDS CFG OUT CMD...
# It runs as pid 1 of new network and pid namespaces, so whatever CMD leaves behind dies with
# it, and ports 80/443 and any address are free there. Loopback comes up with every IPv4
# address CFG's `bind`, `peer` and `server` lines name added to it (`bind 10.0.0.5:80` binds).
# CMD's output goes to OUT. Prints one line: "started listening" (it listens and is still
# running a second later: the root and user change after the binds), "started running" (still
# running after SECONDS, listening on nothing), or "failed <exit status>".
set -u
wait_s=$1 cfg=$2 out=$3
shift 3
ip link set lo up
for a in $(grep -E '^[[:space:]]*(bind|peer|server)[[:space:]]' "$cfg" |
    grep -oE '(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}' | grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}' |
    grep -vE '^(0\.0\.0\.0|127\.)' | sort -u); do
    ip addr add "$a/32" dev lo 2>/dev/null
done
# Each sandbox's proxy would otherwise get the same pid, and two binding one unix socket path
# (the `stats socket /run/haproxy/admin.sock` many configurations share) would then share its
# temporary name `<path>.<pid>.tmp` too, one's rename taking the other's: the pids of this
# pid namespace start at a random point instead.
echo $((1000 + RANDOM)) >/proc/sys/kernel/ns_last_pid 2>/dev/null
"$@" >"$out" 2>&1 </dev/null &
pid=$!
deadline=$((SECONDS + wait_s))
while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 $pid 2>/dev/null; then
        wait $pid
        echo "failed $?"
        exit 0
    fi
    if [ -n "$(ss -Hltnux 2>/dev/null | head -1)" ]; then
        sleep 1
        if kill -0 $pid 2>/dev/null; then
            echo "started listening"
            kill -KILL $pid
            exit 0
        fi
        wait $pid
        echo "failed $?"
        exit 0
    fi
    sleep 0.1
done
if kill -0 $pid 2>/dev/null; then
    echo "started running"
    kill -KILL $pid
    exit 0
fi
wait $pid
echo "failed $?"
