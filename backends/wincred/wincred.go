// Package wincred keeps secrets in Windows Credential Manager as generic
// credentials, through github.com/danieljoos/wincred.
//
// # Layouts
//
// Every record is the credential keyring-rs (and so Codex) would use: TargetName
// "<account>.<service>", UserName the account, persisted CRED_PERSIST_ENTERPRISE.
// Its Comment names mcpcred and the layout of the blob. Get reads both layouts:
//
//   - Codex's (keyring-rs 3.x): the secret as UTF-16LE without NUL, in one
//     credential of at most 2560 bytes, so at most 1280 UTF-16 units.
//   - mcpcred's default: the secret's bytes (UTF-8 JSON) in one credential when
//     they fit in 2560 bytes. A longer secret, up to MaxSecret (64 × 2560 bytes),
//     is split: parts first, at targets "<account>.<service>#<gen>-<i>" (i from 1,
//     gen 8 random hex digits, new for every write), then the main credential,
//     whose blob is a JSON index {v, gen, parts, len, sha256}. Writing the index
//     is the commit: until then readers see the previous record, whole. Then the
//     parts of every other generation are removed. A reader returns a split record
//     only when every part of the index's generation is there and the
//     concatenation has the index's length and SHA-256; otherwise Get fails with an
//     error matching backends.ErrNotFound that says what is missing.
//
// Options.CodexLayout writes only what Codex reads: UTF-16LE in one credential. A
// secret that needs more than 2560 bytes so is a *backends.TooLongError, which makes
// mcpcred's auto mode use the file store, as Codex does.
//
// How Get tells the layouts apart: by the comment mcpcred writes (exact strings,
// one per layout and one for parts); then by keyring-rs's comment
// "<account>@<service>:<target> (keyring v…)"; a credential with neither comment
// is UTF-16LE when its blob has even length, decodes as UTF-16 and contains a
// zero byte (every ASCII character in UTF-16LE has one; UTF-8 text never does),
// and is taken as raw bytes otherwise.
//
// The size limits are checked here, before any call: real Windows rejects a blob
// over 2560 bytes (error 1783), but Wine accepts it. Credential Manager calls are
// local and do not prompt; ctx is checked before each one.
//
// The package builds on every OS, so its logic is tested on Linux against an
// in-memory store; New, which uses the real Credential Manager, exists on Windows
// only.
package wincred

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mcpcred/mcpcred/backends"
)

// cred is the part of a generic credential this package uses.
type cred struct {
	Target  string
	User    string
	Comment string
	Blob    []byte
}

// errNoCred is what a store returns for a target that does not exist.
var errNoCred = errors.New("no such credential")

// store is Credential Manager's generic credentials, or a stand-in in tests.
type store interface {
	read(target string) (*cred, error) // errNoCred when absent
	write(c *cred) error               // creates or replaces the whole credential
	remove(target string) error        // errNoCred when absent
	// enum lists the credentials whose target starts with prefix (ignoring
	// case; "" lists all). It may return others too: callers filter.
	enum(prefix string) ([]*cred, error)
}

// Keyring is Windows Credential Manager. It holds no connection: every call goes
// to the OS. It is safe for concurrent use; concurrent writes of one record
// leave one of them whole (see the package comment).
type Keyring struct {
	s      store
	opts   backends.Options
	closed atomic.Bool
}

var _ backends.Keyring = (*Keyring)(nil)

func newKeyring(s store, opts backends.Options) *Keyring {
	return &Keyring{s: s, opts: opts}
}

// Name implements backends.Keyring.
func (k *Keyring) Name() string { return "wincred" }

// Close implements backends.Keyring. There is nothing to release.
func (k *Keyring) Close() error {
	k.closed.Store(true)
	return nil
}

// begin applies the timeout and reports a closed keyring or an expired ctx.
func (k *Keyring) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if k.closed.Load() {
		return ctx, func() {}, fmt.Errorf("%w: the wincred keyring is closed", backends.ErrUnavailable)
	}
	cancel := context.CancelFunc(func() {})
	if k.opts.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, k.opts.Timeout)
	}
	if err := alive(ctx); err != nil {
		cancel()
		return ctx, func() {}, err
	}
	return ctx, cancel, nil
}

func alive(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: Windows Credential Manager: %w", backends.ErrUnavailable, err)
	}
	return nil
}

// target validates service and account and returns the main target name.
// room is the number of UTF-16 units the target must leave free for suffixes.
func target(service, account string, room int) (string, error) {
	switch {
	case service == "":
		return "", errors.New("wincred: the service name is empty")
	case account == "":
		return "", errors.New("wincred: the account name is empty")
	case strings.ContainsRune(service, 0) || strings.ContainsRune(account, 0):
		return "", errors.New("wincred: a service or account name contains a NUL character")
	}
	if n := utf16Len(account); n > MaxUserName {
		return "", &backends.TooLongError{What: "account (the credential's user name, in UTF-16)", Len: 2 * n, Limit: 2 * MaxUserName}
	}
	t := account + "." + service
	if n := utf16Len(t); n > MaxTargetName-room {
		return "", &backends.TooLongError{What: `target name "<account>.<service>" (in UTF-16)`, Len: 2 * n, Limit: 2 * (MaxTargetName - room)}
	}
	return t, nil
}

// maxReads bounds how often Get reads a split record that writers keep replacing.
const maxReads = 5

// Get implements backends.Keyring. It reads both layouts (see the package comment).
func (k *Keyring) Get(ctx context.Context, service, account string) ([]byte, error) {
	ctx, cancel, err := k.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	main, err := target(service, account, 0)
	if err != nil {
		return nil, err
	}
	var lastGen string
	for attempt := 1; ; attempt++ {
		c, err := k.s.read(main)
		if errors.Is(err, errNoCred) {
			return nil, fmt.Errorf("wincred: credential %q: %w", main, backends.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("wincred: read credential %q: %w", main, err)
		}
		switch classify(c, account, service) {
		case kindUTF8:
			return c.Blob, nil
		case kindUTF16:
			s, err := decodeUTF16LE(c.Blob)
			if err != nil {
				return nil, fmt.Errorf("wincred: credential %q: %w", main, err)
			}
			return s, nil
		case kindPart:
			return nil, fmt.Errorf("wincred: credential %q is a part of another record's split secret, not a record: %w", main, backends.ErrNotFound)
		}
		m, err := parseManifest(c.Blob)
		if err != nil {
			return nil, fmt.Errorf("wincred: credential %q is a split secret, but %w", main, err)
		}
		data, missing, err := k.assemble(ctx, main, m)
		if err != nil {
			return nil, err
		}
		if missing == 0 {
			if !m.check(data) {
				return nil, fmt.Errorf("wincred: credential %q is a split secret whose parts do not match its index (length or SHA-256): not returned: %w", main, backends.ErrNotFound)
			}
			return data, nil
		}
		// A writer may have replaced the record between our reads: its new index
		// names a new generation. Read again while the generation changes.
		if m.Gen == lastGen || attempt == maxReads {
			return nil, fmt.Errorf("wincred: credential %q is a split secret of %d parts, but part %d (%q) is missing, so the record is incomplete and not returned: %w",
				main, m.Parts, missing, partTarget(main, m.Gen, missing), backends.ErrNotFound)
		}
		lastGen = m.Gen
	}
}

// assemble reads the parts of m. missing is the first absent part, or 0.
func (k *Keyring) assemble(ctx context.Context, main string, m manifest) (data []byte, missing int, err error) {
	data = make([]byte, 0, m.Len)
	for i := 1; i <= m.Parts; i++ {
		if err := alive(ctx); err != nil {
			return nil, 0, err
		}
		t := partTarget(main, m.Gen, i)
		c, err := k.s.read(t)
		if errors.Is(err, errNoCred) {
			return nil, i, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("wincred: read credential %q: %w", t, err)
		}
		if c.Comment != commentPart {
			return nil, 0, fmt.Errorf("wincred: credential %q should be part %d of a split secret but is something else: %w", t, i, backends.ErrNotFound)
		}
		data = append(data, c.Blob...)
	}
	return data, 0, nil
}

// Set implements backends.Keyring. An existing credential is replaced.
func (k *Keyring) Set(ctx context.Context, service, account string, secret []byte) error {
	ctx, cancel, err := k.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	room := partSuffixMax
	if k.opts.CodexLayout {
		room = 0
	}
	main, err := target(service, account, room)
	if err != nil {
		return err
	}
	c := &cred{Target: main, User: account}
	switch {
	case k.opts.CodexLayout:
		if !validText(secret) {
			return errors.New("wincred: the secret is not UTF-8 text, which the Codex (keyring-rs) layout requires")
		}
		c.Blob = encodeUTF16LE(string(secret))
		if len(c.Blob) > MaxBlob {
			return &backends.TooLongError{What: "secret in UTF-16LE (Codex's layout, one credential)", Len: len(c.Blob), Limit: MaxBlob}
		}
		c.Comment = commentUTF16
	case len(secret) <= MaxBlob:
		c.Blob, c.Comment = secret, commentUTF8
	case len(secret) > MaxSecret:
		return &backends.TooLongError{What: fmt.Sprintf("secret (split over at most %d credentials of %d bytes)", MaxParts, MaxBlob), Len: len(secret), Limit: MaxSecret}
	default:
		gen, err := newGen()
		if err != nil {
			return err
		}
		m := newManifest(gen, secret)
		for i := 1; i <= m.Parts; i++ {
			chunk := secret[(i-1)*MaxBlob : min(i*MaxBlob, len(secret))]
			err := alive(ctx)
			if err == nil {
				err = k.write(&cred{Target: partTarget(main, gen, i), User: account, Comment: commentPart, Blob: chunk})
			}
			if err != nil {
				for j := 1; j < i; j++ {
					_ = k.s.remove(partTarget(main, gen, j))
				}
				return err
			}
		}
		c.Blob, c.Comment = m.encode(), commentManifest
		err = alive(ctx)
		if err == nil {
			err = k.write(c) // the commit
		}
		if err != nil {
			for j := 1; j <= m.Parts; j++ {
				_ = k.s.remove(partTarget(main, gen, j))
			}
			return err
		}
		// The parts of earlier generations are leftovers now. Removing them is
		// tidying: the write has succeeded, and the next write retries.
		_, _ = k.removeParts(main, gen)
		return nil
	}
	if err := alive(ctx); err != nil {
		return err
	}
	if err := k.write(c); err != nil {
		return err
	}
	// Parts of an earlier split record are leftovers now (see above).
	_, _ = k.removeParts(main, "")
	return nil
}

func (k *Keyring) write(c *cred) error {
	if err := k.s.write(c); err != nil {
		return fmt.Errorf("wincred: write credential %q: %w", c.Target, err)
	}
	return nil
}

// removeParts removes the parts of main's split records except those of
// generation keep, and reports how many it removed.
func (k *Keyring) removeParts(main, keep string) (int, error) {
	list, err := k.s.enum(main + "#")
	if err != nil {
		return 0, fmt.Errorf("wincred: list the parts of %q: %w", main, err)
	}
	n := 0
	for _, c := range list {
		gen, _, ok := parsePartTarget(main, c.Target)
		if !ok || c.Comment != commentPart || gen == keep {
			continue
		}
		if err := k.s.remove(c.Target); err != nil && !errors.Is(err, errNoCred) {
			return n, fmt.Errorf("wincred: delete credential %q: %w", c.Target, err)
		}
		n++
	}
	return n, nil
}

func newGen() (string, error) {
	var b [genLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("wincred: random generation: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Delete implements backends.Keyring. It removes the main credential first, so
// the record disappears at once, then every part of it, including parts left by a
// write that did not finish. With no main credential it still removes such parts,
// and returns ErrNotFound.
func (k *Keyring) Delete(ctx context.Context, service, account string) error {
	_, cancel, err := k.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	main, err := target(service, account, 0)
	if err != nil {
		return err
	}
	err = k.s.remove(main)
	if err != nil && !errors.Is(err, errNoCred) {
		return fmt.Errorf("wincred: delete credential %q: %w", main, err)
	}
	if _, perr := k.removeParts(main, ""); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("wincred: credential %q: %w", main, backends.ErrNotFound)
	}
	return nil
}

// List implements backends.Keyring: the accounts of the credentials whose target
// is "<account>.<service>", in either layout, without the parts of split records.
// When a credential's user name is set (keyring-rs and mcpcred set it to the
// account) it must agree, which resolves names with dots.
func (k *Keyring) List(ctx context.Context, service string) ([]string, error) {
	_, cancel, err := k.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if service == "" {
		return nil, errors.New("wincred: the service name is empty")
	}
	list, err := k.s.enum("")
	if err != nil {
		return nil, fmt.Errorf("wincred: list credentials: %w", err)
	}
	suffix := "." + service
	var accounts []string
	for _, c := range list {
		t := c.Target
		if c.Comment == commentPart || len(t) <= len(suffix) || !strings.EqualFold(t[len(t)-len(suffix):], suffix) {
			continue
		}
		a := t[:len(t)-len(suffix)]
		if c.User != "" && !strings.EqualFold(c.User, a) {
			continue
		}
		accounts = append(accounts, a)
	}
	return accounts, nil
}

// Doctor implements backends.Keyring.
func (k *Keyring) Doctor(ctx context.Context) []string {
	lines := []string{"keyring: Windows Credential Manager (generic credentials, target \"<account>.<service>\", persist enterprise)"}
	if k.opts.CodexLayout {
		lines = append(lines,
			"layout: Codex's (keyring-rs): UTF-16LE in one credential",
			"limits: "+strconv.Itoa(MaxBlob)+" bytes of UTF-16LE per secret; a longer secret is refused (auto mode uses the file)")
	} else {
		lines = append(lines,
			"layout: mcpcred's: UTF-8, split over several credentials (index written last) past "+strconv.Itoa(MaxBlob)+" bytes",
			fmt.Sprintf("limits: %d bytes per credential, %d credentials (%d bytes) per secret", MaxBlob, MaxParts, MaxSecret))
	}
	lines = append(lines, "reads: both layouts (UTF-8 and Codex's UTF-16LE)")
	_, cancel, err := k.begin(ctx)
	if err != nil {
		return append(lines, "state: "+err.Error())
	}
	defer cancel()
	list, err := k.s.enum("")
	if err != nil {
		return append(lines, "state: cannot list credentials: "+err.Error())
	}
	return append(lines, fmt.Sprintf("state: usable, %d credentials in this user's vault", len(list)))
}
