//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"context"
	"errors"
	"maps"

	"github.com/godbus/dbus/v5"

	"github.com/mcpcred/mcpcred/backends"
)

// SearchItems returns the items, in every collection, whose attributes include all
// of attrs, newest first. Only unlocked items are returned; when every match is
// locked, or nothing matches while a collection that hides its items is locked,
// those are unlocked first (a prompt) or the error matches backends.ErrLocked.
func (k *Keyring) SearchItems(ctx context.Context, attrs map[string]string) (_ []ItemPath, err error) {
	defer public("search", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	items, err := k.findAll(ctx, attrs)
	out := make([]ItemPath, len(items))
	for i, p := range items {
		out[i] = ItemPath(p)
	}
	return out, err
}

// ReadItem returns an item's label, attributes (without providerFields) and secret. A missing item matches
// backends.ErrNotFound, a locked one backends.ErrLocked.
func (k *Keyring) ReadItem(ctx context.Context, item ItemPath) (_ *Item, err error) {
	defer public("read item", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	c, _, err := k.state(ctx)
	if err != nil {
		return nil, err
	}
	path := dbus.ObjectPath(item)
	it := &Item{Path: item}
	if err := getProp(ctx, c, path, ifaceItem, "Attributes", &it.Attributes); err != nil {
		return nil, wrap("read attributes", err)
	}
	ownAttributes(it.Attributes)
	if err := getProp(ctx, c, path, ifaceItem, "Label", &it.Label); err != nil {
		return nil, wrap("read label", err)
	}
	if err := getProp(ctx, c, path, ifaceItem, "Modified", &it.Modified); err != nil && !errors.Is(wrap("", err), backends.ErrNotFound) {
		return nil, wrap("read Modified", err)
	}
	if it.Secret, it.ContentType, err = k.getSecret(ctx, path); err != nil {
		return nil, err
	}
	return it, nil
}

// StoreItem writes an item with exactly attrs, label and secret. The one unlocked
// item, in any collection, whose attributes are exactly attrs is updated in place
// (secret and label); with none, a new item is created in the default collection
// (CreateItem with replace=false, which never touches another item). Attributes
// KeePassXC adds by itself (providerFields) do not count in "exactly". Of several
// exact matches the newest (Modified) is updated and the others deleted.
func (k *Keyring) StoreItem(ctx context.Context, label string, attrs map[string]string, secret []byte) (_ ItemPath, err error) {
	defer public("store item", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	items, err := k.searchUnlocked(ctx, attrs)
	if err != nil {
		return "", err
	}
	c, _, err := k.state(ctx)
	if err != nil {
		return "", err
	}
	var exact []dbus.ObjectPath
	for _, item := range items {
		var got map[string]string
		if err := getProp(ctx, c, item, ifaceItem, "Attributes", &got); err != nil {
			if errors.Is(wrap("", err), backends.ErrNotFound) {
				continue
			}
			return "", wrap("read attributes", err)
		}
		if maps.Equal(ownAttributes(got), attrs) {
			exact = append(exact, item)
		}
	}
	if len(exact) == 0 {
		p, err := k.create(ctx, label, attrs, secret)
		return ItemPath(p), err
	}
	// Of duplicates, the newest is updated and the others go.
	if exact, err = newestFirst(ctx, c, exact); err != nil {
		return "", err
	}
	if len(exact) == 0 {
		p, err := k.create(ctx, label, attrs, secret)
		return ItemPath(p), err
	}
	if err := k.setSecret(ctx, exact[0], secret); err != nil {
		return "", err
	}
	if err := setProp(ctx, c, exact[0], ifaceItem, "Label", label); err != nil {
		return "", wrap("set label", err)
	}
	return ItemPath(exact[0]), k.deleteAll(ctx, exact[1:])
}

// providerFields are the attributes KeePassXC gives every item it exposes: its
// entry's own fields. They are not the item's attributes as a client wrote them.
var providerFields = []string{"Title", "UserName", "URL", "Notes", "Path", "Uuid"}

// ownAttributes removes providerFields from attrs, and returns it.
func ownAttributes(attrs map[string]string) map[string]string {
	for _, f := range providerFields {
		delete(attrs, f)
	}
	return attrs
}

// DeleteItem deletes an item. A missing item matches backends.ErrNotFound.
func (k *Keyring) DeleteItem(ctx context.Context, item ItemPath) (err error) {
	defer public("delete item", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	return k.deleteItem(ctx, dbus.ObjectPath(item))
}
