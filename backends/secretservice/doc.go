//go:build linux || freebsd || openbsd || netbsd || dragonfly

// Package secretservice is the freedesktop Secret Service backend (gnome-keyring,
// KeePassXC, KWallet's ksecretd, ...): a pure-Go D-Bus client on godbus, without
// cgo or libsecret.
//
// # Connection
//
// One private connection and one session per Keyring, opened on first use and
// reused. The bus address is $DBUS_SESSION_BUS_ADDRESS; when that is unset (agent
// tools clear the environment) $XDG_RUNTIME_DIR/bus, then /run/user/<uid>/bus, if the
// socket exists. A bus is never launched (no dbus-launch, no autolaunch:) and the
// service is never D-Bus-activated: the connection checks that org.freedesktop.secrets
// has an owner (GetNameOwner, which activates nothing) and every call carries the
// NO_AUTO_START flag. Dial, authentication and Hello run under the caller's deadline.
// No bus, no owner or no answer in time is an error matching
// backends.ErrUnavailable.
//
// Every method applies backends.Options.Timeout (DefaultTimeout when zero) to the
// whole operation, on top of the caller's context.
//
// # Session
//
// dh-ietf1024-sha256-aes128-cbc-pkcs7 (RFC 2409 group 2, public key and shared
// secret left-padded to 128 bytes, HKDF-SHA256 with no salt and empty info to a
// 16-byte key, AES-128-CBC with PKCS#7 and a fresh IV per secret). "plain" is used
// only when the service answers NotSupported to the DH algorithm (any other failure
// is not a reason to downgrade); Doctor names the algorithm in use. A secret that
// does not decrypt here, one the service could not decrypt (gnome-keyring: InvalidArgs
// from SetSecret, Failed from CreateItem), or a session the service no longer knows,
// makes the Keyring open a new session and retry once.
//
// # Items
//
// Items are written as keyring-rs (Codex) writes them, so either program reads the
// other's: attributes service=<service>, username=<account>, target=default, plus
// application=mcpcred (keyring-rs writes application=rust-keyring; no reader
// searches on it, and it names the program that wrote the item honestly), label
// "<account>@<service>", content type text/plain, the secret's bytes unchanged.
// backends.Options.CodexLayout changes nothing here: the layout is already the one
// keyring-rs reads.
//
// Lookups search {service, username} with Service.SearchItems over every collection,
// so items written by Codex, go-keyring, secret-tool or python's keyring with extra
// attributes are found. Of the matches only unlocked ones count. Several matches
// (another tool's second item for the key) are not an error: Get reads the newest
// by the items' Modified property (then by path, so every reader picks the same),
// Set updates that one in place (Item.SetSecret, keeping its label and attributes)
// and deletes the others, and Delete deletes every match. With no match, Set
// creates the item in the default collection with CreateItem(replace=false) and
// the full attribute set. Set does not compare with the stored secret first: the
// helper layer already skips identical stores. Doctor names the keys of mcpcred's
// and keyring-rs's items that have duplicates.
//
// When every match is locked, the Keyring unlocks them (see Prompts) or returns
// backends.ErrLocked. A search that finds nothing, locked or not, is "absent" only
// if no locked collection hides its items: KeePassXC reports neither the items of
// a locked database nor locked matches, so while a collection is locked and lists
// no Items an empty search means "locked". The Keyring unlocks such collections
// (a prompt) and searches again, or returns backends.ErrLocked; Delete never
// reports success for an item it could not see.
//
// The default collection is the "default" alias. When the service has no such
// alias, the Keyring uses the collection /org/freedesktop/secrets/collection/login
// if the service has one (gnome-keyring's usual default), and never the in-memory
// "session" collection, whose contents vanish at logout. It never creates a
// collection (that always prompts); without a default the write fails with
// backends.ErrUnavailable.
//
// # Prompts
//
// A locked collection, or a delete/create the service wants confirmed, needs a
// prompt; KeePassXC answers every CreateItem and Delete with one that completes at
// once with no UI. With PromptAuto (the default) the Keyring runs every prompt the
// service returns, display or not: it subscribes to Completed, calls
// Prompt.Prompt, and waits until the deadline (Options.Timeout); on timeout it
// sends Prompt.Dismiss and fails with one line saying that the prompt needed a
// person and got no answer. Where no prompter can show a window (gnome-keyring
// without a display) the service dismisses the prompt itself at once. A dismissed
// prompt is backends.ErrLocked. PromptNever runs no prompt and calls no Unlock:
// any prompt is backends.ErrLocked at once.
//
// # Lower-level API
//
// SearchItems, ReadItem, StoreItem and DeleteItem work on arbitrary attribute sets
// (for the git credential layout) with the same connection, session, unlocking and
// error rules. StoreItem updates the newest item whose attributes are exactly the
// given ones in place (deleting other exact matches), else creates one with
// CreateItem(replace=false). Attributes KeePassXC adds to every item (its entry's
// Title, UserName, URL, Notes, Path, Uuid) are left out of what ReadItem returns
// and of "exactly".
//
// # Errors
//
// Each exported method returns "secret service: <op>: ..." errors that match
// backends.ErrUnavailable (no bus, no owner, deadline, connection lost),
// backends.ErrLocked (locked, prompt off or dismissed or unanswered),
// backends.ErrNotFound or backends.ErrAmbiguous where they apply. Nothing here logs
// or prints, and no error message carries a secret.
//
// # Platforms
//
// Linux and the BSDs, without cgo. On DragonFly BSD godbus needs cgo; a build
// without it gets a Keyring whose every call is backends.ErrUnavailable.
package secretservice
