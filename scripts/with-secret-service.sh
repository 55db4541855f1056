#!/usr/bin/env bash
# with-secret-service.sh [--locked] CMD [ARG...]
#
# Runs CMD against a real, private Secret Service: a throw-away D-Bus session bus
# that can activate nothing, and gnome-keyring-daemon (secrets component only) with a
# temporary HOME, whose "login" collection is the default one. Nothing on the
# machine's own session bus or keyrings is touched.
#
#   --locked   lock the default collection (Service.Lock) before running CMD.
#
# CMD sees:
#   DBUS_SESSION_BUS_ADDRESS             the private bus (unix:path=$XDG_RUNTIME_DIR/bus)
#   XDG_RUNTIME_DIR                      the temp dir holding the bus socket
#   MCPCRED_TEST_SECRET_SERVICE=1        a real Secret Service is expected
#   MCPCRED_TEST_SECRET_SERVICE_LOCKED   1 with --locked, else 0
#   MCPCRED_TEST_KEYRING_PASSWORD        the login collection's password (fixed, test-only)
#
# Installs dbus-daemon, dbus-bin, gnome-keyring and libsecret-tools with apt-get
# when a command is missing (as root, or with password-less sudo). Several runs may
# go at once: each has its own temp dir, bus and daemon. On exit, INT, TERM or HUP it
# stops exactly the processes it started (CMD, the daemon, the bus) and removes the
# temp dir. Its exit status is CMD's; 125 means the script itself failed; 86 means
# CMD failed and gnome-keyring-daemon had died under it (its log is printed).
set -u

locked=0
if [ "${1-}" = --locked ]; then
	locked=1
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: $0 [--locked] CMD [ARG...]" >&2
	exit 125
fi

die() {
	echo "with-secret-service: $*" >&2
	exit 125
}

missing_tools() {
	local c
	for c in dbus-daemon dbus-send dbus-monitor gnome-keyring-daemon secret-tool; do
		command -v "$c" >/dev/null 2>&1 || echo "$c"
	done
}

if [ -n "$(missing_tools)" ]; then
	if [ "$(id -u)" = 0 ]; then
		sudo=()
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo=(sudo -n)
	else
		die "missing $(missing_tools | tr '\n' ' ')and cannot install them (not root, no password-less sudo)"
	fi
	command -v apt-get >/dev/null 2>&1 || die "missing $(missing_tools | tr '\n' ' ')and no apt-get"
	echo "with-secret-service: installing dbus, gnome-keyring, libsecret-tools" >&2
	(
		# One installer at a time when several runs start together.
		exec 9>/tmp/mcpcred-with-secret-service.apt.lock
		flock 9 || true
		[ -z "$(missing_tools)" ] && exit 0
		apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
		"${apt[@]}" update >&2 &&
			{ "${apt[@]}" install -y --no-install-recommends dbus-daemon dbus-bin gnome-keyring libsecret-tools >&2 ||
				"${apt[@]}" install -y --no-install-recommends dbus gnome-keyring libsecret-tools >&2; }
	) || die "apt-get failed"
	[ -z "$(missing_tools)" ] || die "still missing after apt-get: $(missing_tools | tr '\n' ' ')"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcpcred-ss.XXXXXX") || die "mktemp failed"
bus_pid=
kr_pid=
cmd_pid=

stop() { # stop PID: TERM, then KILL after 3 s
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	stop "$cmd_pid"
	stop "$kr_pid"
	stop "$bus_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run" || die "mkdir failed"
chmod 700 "$tmp" "$tmp/run"
sock="$tmp/run/bus"
[ ${#sock} -lt 100 ] || die "socket path too long for a unix socket: $sock (set TMPDIR shorter)"

# A session bus with no service directories: nothing can be activated on it. The
# eavesdrop rules let tests watch the traffic with dbus-monitor.
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

dbus-daemon --config-file="$tmp/bus.conf" --nofork --print-address=1 \
	>"$tmp/bus.addr" 2>"$tmp/bus.log" </dev/null &
bus_pid=$!

addr=
for _ in $(seq 100); do
	kill -0 "$bus_pid" 2>/dev/null || { cat "$tmp/bus.log" >&2; die "dbus-daemon exited at start"; }
	addr=$(head -n 1 "$tmp/bus.addr" 2>/dev/null)
	[ -n "$addr" ] && break
	sleep 0.05
done
[ -n "$addr" ] || die "dbus-daemon printed no address within 5 s"

password=mcpcred-test-password
printf '%s' "$password" >"$tmp/password"
env -u DISPLAY -u WAYLAND_DISPLAY \
	HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
	XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" DBUS_SESSION_BUS_ADDRESS="$addr" \
	gnome-keyring-daemon --foreground --unlock --components=secrets \
	--control-directory="$tmp/run/keyring" <"$tmp/password" >"$tmp/keyring.log" 2>&1 &
kr_pid=$!

send() { # send DEST PATH METHOD ARGS...: dbus-send with a reply, on the private bus
	local dest=$1 path=$2 method=$3
	shift 3
	dbus-send --bus="$addr" --reply-timeout=2000 --print-reply --dest="$dest" "$path" "$method" "$@" 2>/dev/null
}

collection=
for _ in $(seq 200); do
	kill -0 "$kr_pid" 2>/dev/null || { cat "$tmp/keyring.log" >&2; die "gnome-keyring-daemon exited at start"; }
	if send org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
		string:org.freedesktop.secrets | grep -q 'boolean true'; then
		collection=$(send org.freedesktop.secrets /org/freedesktop/secrets \
			org.freedesktop.Secret.Service.ReadAlias string:default |
			sed -n 's/.*object path "\(.*\)".*/\1/p')
		[ -n "$collection" ] && [ "$collection" != / ] && break
		collection=
	fi
	sleep 0.05
done
if [ -z "$collection" ]; then
	cat "$tmp/keyring.log" >&2
	die "gnome-keyring did not own org.freedesktop.secrets with a default collection within 10 s"
fi

if [ "$locked" = 1 ]; then
	send org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
		"array:objpath:$collection" >/dev/null || die "Lock of $collection failed"
	send org.freedesktop.secrets "$collection" org.freedesktop.DBus.Properties.Get \
		string:org.freedesktop.Secret.Collection string:Locked | grep -q 'boolean true' ||
		die "$collection did not lock"
fi

export DBUS_SESSION_BUS_ADDRESS="$addr"
export XDG_RUNTIME_DIR="$tmp/run"
export MCPCRED_TEST_SECRET_SERVICE=1
export MCPCRED_TEST_SECRET_SERVICE_LOCKED=$locked
export MCPCRED_TEST_KEYRING_PASSWORD=$password

# In the background so that a signal to this script is handled at once; <&0 keeps
# stdin (a background job would otherwise read /dev/null).
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
status=$?
cmd_pid=
if [ "$status" -ne 0 ] && ! kill -0 "$kr_pid" 2>/dev/null; then
	# The command failed for want of a service: say why it went away, and exit
	# with a status of its own so that a caller can tell this from a test failure.
	echo "with-secret-service: gnome-keyring-daemon died during the run; its output:" >&2
	cat "$tmp/keyring.log" >&2
	status=86
fi
exit "$status"
