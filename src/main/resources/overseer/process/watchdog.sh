#!/bin/sh
# Overseer's node watchdog. The server feeds it a line over a named pipe each time it renews its
# lease. When the pipe ends (the server died, even by SIGKILL) or no line came for the limit (the
# server is frozen, or cut off from its database), it SIGKILLs every process whose environment
# carries the server's marker: another node may soon find the lease expired and start the work
# those processes do. It keeps watching: a server that resumes feeds it again.
#
# Arguments: the marker's value, the limit in hundredths of a second, the pipe, the file that
# keeps the time of the last line, the log file. The pipe and the beat file are this server's
# alone (named by the marker): a watchdog still ending for a server that died never reads the
# beats of the next one, nor removes its files.
mark=$1
limit=$2
pipe=$3
beat=$4
log=$5

# The server does not read this process's output: anything written there would end it by
# SIGPIPE, silently. Everything goes to the log, and a broken pipe is not fatal.
exec >> "$log" 2>&1 < /dev/null
trap '' PIPE

# Hundredths of a second since boot, into $cs: a monotonic clock, read without a fork.
now() {
    read -r up _ < /proc/uptime
    cs=${up%.*}${up#*.}
}

kill_marked() {
    n=0
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}
        pid=${pid%/environ}
        if grep -qsxz "OVERSEER_NODE_MARK=$mark" "$env"; then
            kill -9 "$pid" 2>/dev/null && n=$((n + 1))
        fi
    done
    if [ "$n" -gt 0 ]; then
        echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) watchdog: killed $n process(es): $1" >> "$log"
    fi
}

now
echo "$cs" > "$beat"
(
    while sleep 0.2; do
        [ -f "$beat" ] || exit 0
        read -r last < "$beat" || continue
        [ -n "$last" ] || continue
        now
        if [ $((cs - last)) -ge "$limit" ]; then
            kill_marked "no heartbeat from the server for $(((cs - last) / 100)) s"
            # Dying processes may fork: look again in a second, not at once.
            sleep 1
        fi
    done
) &
checker=$!
while read -r _; do
    now
    echo "$cs" > "$beat"
done < "$pipe"
kill "$checker" 2>/dev/null
kill_marked "the server is gone"
sleep 0.2
kill_marked "the server is gone"
rm -f "$beat" "$pipe"
