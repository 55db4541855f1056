#!/usr/bin/env bash
# with-secret-service.sh [--provider gnome-keyring|keepassxc] [--locked] CMD [ARG...]
#
# Runs CMD against a real, private Secret Service: a throw-away D-Bus session bus
# that can activate nothing, and one provider with a temporary HOME. Nothing on the
# machine's own session bus or keyrings is touched. Neither provider gets DISPLAY or
# WAYLAND_DISPLAY, and CMD runs without them too: the SSH-session case.
#
#   --provider gnome-keyring (the default): gnome-keyring-daemon, secrets component
#              only, whose "login" collection is the default one.
#   --provider keepassxc: KeePassXC on Qt's offscreen platform, with a database
#              made here by keepassxc-cli (password below, recycle bin off, its root
#              group exposed over the Secret Service), opened at start, and the
#              integration on with no notifications, no access or delete
#              confirmations and UnlockBeforeSearch off: a locked database then
#              hides its items from SearchItems instead of holding the search open
#              on an unlock dialog nobody sees.
#   --locked   lock the default collection (Service.Lock, and its prompt for
#              KeePassXC) before running CMD.
#
# CMD sees:
#   DBUS_SESSION_BUS_ADDRESS             the private bus (unix:path=$XDG_RUNTIME_DIR/bus)
#   XDG_RUNTIME_DIR                      the temp dir holding the bus socket
#   MCPCRED_TEST_SECRET_SERVICE=1        a real Secret Service is expected
#   MCPCRED_TEST_SECRET_SERVICE_LOCKED   1 with --locked, else 0
#   MCPCRED_TEST_KEYRING_PASSWORD        the collection's (database's) password (fixed, test-only)
#   MCPCRED_TEST_SECRET_SERVICE_PROVIDER gnome-keyring or keepassxc
#   MCPCRED_TEST_KEEPASSXC_DB            keepassxc only: the database file (tests
#                                        unlock it with KeePassXC's own D-Bus
#                                        openDatabase, as a person would type the password)
#
# Installs dbus-daemon, dbus-bin, gnome-keyring, libsecret-tools (and keepassxc for
# that provider) with apt-get when a command is missing (as root, or with
# password-less sudo). Several runs may go at once: each has its own temp dir, bus
# and daemon. On exit, INT, TERM or HUP it stops exactly the processes it started
# (CMD, the provider, the bus) and removes the temp dir. Its exit status is CMD's;
# 125 means the script itself failed; 86 means the provider died under CMD (which
# failed) or while --locked locked it (its log is printed).
set -u

locked=0
provider=gnome-keyring
while [ $# -gt 0 ]; do
	case $1 in
	--locked) locked=1 ;;
	--provider) provider=${2-}; shift ;;
	--provider=*) provider=${1#--provider=} ;;
	*) break ;;
	esac
	shift
done
case $provider in
gnome-keyring | keepassxc) ;;
*) echo "with-secret-service: unknown provider \"$provider\" (gnome-keyring or keepassxc)" >&2; exit 125 ;;
esac
if [ $# -eq 0 ]; then
	echo "usage: $0 [--provider gnome-keyring|keepassxc] [--locked] CMD [ARG...]" >&2
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
	if [ "$provider" = keepassxc ]; then
		for c in keepassxc keepassxc-cli; do
			command -v "$c" >/dev/null 2>&1 || echo "$c"
		done
	fi
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
	extra=()
	[ "$provider" = keepassxc ] && extra=(keepassxc)
	echo "with-secret-service: installing dbus, gnome-keyring, libsecret-tools ${extra[*]}" >&2
	(
		# One installer at a time when several runs start together.
		exec 9>/tmp/mcpcred-with-secret-service.apt.lock
		flock 9 || true
		[ -z "$(missing_tools)" ] && exit 0
		apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
		"${apt[@]}" update >&2 &&
			{ "${apt[@]}" install -y --no-install-recommends dbus-daemon dbus-bin gnome-keyring libsecret-tools "${extra[@]}" >&2 ||
				"${apt[@]}" install -y --no-install-recommends dbus gnome-keyring libsecret-tools "${extra[@]}" >&2; }
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
provider_env=(env -u DISPLAY -u WAYLAND_DISPLAY
	HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
	XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" DBUS_SESSION_BUS_ADDRESS="$addr")
db=
case $provider in
gnome-keyring)
	provider_name=gnome-keyring-daemon
	"${provider_env[@]}" gnome-keyring-daemon --foreground --unlock --components=secrets \
		--control-directory="$tmp/run/keyring" <"$tmp/password" >"$tmp/keyring.log" 2>&1 &
	kr_pid=$!
	;;
keepassxc)
	provider_name=keepassxc
	# The database: keepassxc-cli makes it (password twice on stdin), exports it as
	# XML, and imports it back with the recycle bin off (a deleted item must go,
	# not move) and the Secret Service exposing the root group: the database's
	# custom data FDO_SECRETS_EXPOSED_GROUP = the group's UUID, in QUuid's braced form.
	db="$tmp/data/mcpcred-test.kdbx"
	kx() { "${provider_env[@]}" QT_QPA_PLATFORM=offscreen keepassxc-cli "$@"; }
	printf '%s\n%s\n' "$password" "$password" | kx db-create -q -p "$tmp/base.kdbx" >/dev/null 2>"$tmp/keyring.log" ||
		{ cat "$tmp/keyring.log" >&2; die "keepassxc-cli db-create failed"; }
	printf '%s\n' "$password" | kx export -q -f xml "$tmp/base.kdbx" >"$tmp/db.xml" 2>>"$tmp/keyring.log" ||
		{ cat "$tmp/keyring.log" >&2; die "keepassxc-cli export failed"; }
	root=$(sed -n '/<Root>/,/<\/Group>/s/.*<UUID>\(.*\)<\/UUID>.*/\1/p' "$tmp/db.xml" | head -n 1)
	hex=$(printf '%s' "$root" | base64 -d | od -An -tx1 | tr -d ' \n')
	[ ${#hex} -eq 32 ] || die "no root group UUID in keepassxc-cli's export"
	uuid="{${hex:0:8}-${hex:8:4}-${hex:12:4}-${hex:16:4}-${hex:20:12}}"
	sed -i -e 's|<RecycleBinEnabled>True</RecycleBinEnabled>|<RecycleBinEnabled>False</RecycleBinEnabled>|' \
		-e "s|</Meta>|<CustomData><Item><Key>FDO_SECRETS_EXPOSED_GROUP</Key><Value>$uuid</Value></Item></CustomData></Meta>|" \
		"$tmp/db.xml"
	printf '%s\n%s\n' "$password" "$password" | kx import -q -p "$tmp/db.xml" "$db" >/dev/null 2>>"$tmp/keyring.log" ||
		{ cat "$tmp/keyring.log" >&2; die "keepassxc-cli import failed"; }
	rm -f "$tmp/db.xml" "$tmp/base.kdbx"
	# keepassxc.ini: the integration on, nothing that needs a person for an
	# unlocked database, no single-instance socket shared with other runs.
	cat >"$tmp/config/keepassxc.ini" <<-EOF
		[General]
		ConfigVersion=2
		SingleInstance=false
		RememberLastDatabases=false
		RememberLastKeyFiles=false
		OpenPreviousDatabasesOnStartup=false
		AutoSaveAfterEveryChange=true
		AutoReloadOnChange=false
		UpdateCheckMessageShown=true

		[GUI]
		CheckForUpdates=false
		ShowTrayIcon=false
		MinimizeOnStartup=false

		[FdoSecrets]
		Enabled=true
		ShowNotification=false
		ConfirmDeleteItem=false
		ConfirmAccessItem=false
		UnlockBeforeSearch=false
	EOF
	"${provider_env[@]}" QT_QPA_PLATFORM=offscreen keepassxc --config "$tmp/config/keepassxc.ini" \
		--localconfig "$tmp/config/keepassxc-local.ini" --pw-stdin "$db" <"$tmp/password" >>"$tmp/keyring.log" 2>&1 &
	kr_pid=$!
	;;
esac

send() { # send DEST PATH METHOD ARGS...: dbus-send with a reply, on the private bus
	local dest=$1 path=$2 method=$3
	shift 3
	dbus-send --bus="$addr" --reply-timeout=2000 --print-reply --dest="$dest" "$path" "$method" "$@" 2>/dev/null
}

collection=
for _ in $(seq 200); do
	kill -0 "$kr_pid" 2>/dev/null || { cat "$tmp/keyring.log" >&2; die "$provider_name exited at start"; }
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
	die "$provider_name did not own org.freedesktop.secrets with a default collection within 10 s"
fi

lock_once() {
	if [ "$provider" = keepassxc ]; then
		# KeePassXC answers Service.Lock with a prompt that only the connection that
		# called Lock may run; its own D-Bus interface locks at once.
		send org.keepassxc.KeePassXC.MainWindow /keepassxc org.keepassxc.KeePassXC.MainWindow.lockAllDatabases >/dev/null
	else
		send org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
			"array:objpath:$collection" >/dev/null
	fi
}
is_locked() {
	send org.freedesktop.secrets "$collection" org.freedesktop.DBus.Properties.Get \
		string:org.freedesktop.Secret.Collection string:Locked | grep -q 'boolean true'
}
if [ "$locked" = 1 ]; then
	# Asked again until it holds: KeePassXC ignores a lock while it is still
	# finishing opening the database, which on a busy machine has taken more than
	# 5 s: up to 20 s.
	for _ in $(seq 100); do
		lock_once && is_locked && break
		sleep 0.2
	done
	if ! is_locked; then
		if ! kill -0 "$kr_pid" 2>/dev/null; then
			# It crashed while being locked (KeePassXC 2.7.4 has): as when it
			# dies under CMD, exit 86 so that a caller may run this once more.
			echo "with-secret-service: $provider_name died while being locked; its output:" >&2
			cat "$tmp/keyring.log" >&2
			exit 86
		fi
		cat "$tmp/keyring.log" >&2
		die "$collection did not lock"
	fi
fi

export DBUS_SESSION_BUS_ADDRESS="$addr"
export XDG_RUNTIME_DIR="$tmp/run"
export MCPCRED_TEST_SECRET_SERVICE=1
export MCPCRED_TEST_SECRET_SERVICE_LOCKED=$locked
export MCPCRED_TEST_KEYRING_PASSWORD=$password
export MCPCRED_TEST_SECRET_SERVICE_PROVIDER=$provider
export MCPCRED_TEST_KEEPASSXC_DB=$db
unset DISPLAY WAYLAND_DISPLAY

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
	echo "with-secret-service: $provider_name died during the run; its output:" >&2
	cat "$tmp/keyring.log" >&2
	status=86
fi
exit "$status"
