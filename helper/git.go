package helper

import (
	"context"

	"github.com/mcpcred/mcpcred/protocol"
)

// TEMPORARY until git credentials land: git's own rules for a helper that holds
// none. A get prints nothing, store and erase do nothing.
func (h *Helper) gitGet(context.Context, *protocol.Message) (*protocol.Message, error) {
	return nil, nil
}
func (h *Helper) gitStore(context.Context, *protocol.Message) error { return nil }
func (h *Helper) gitErase(context.Context, *protocol.Message) error { return nil }
func (h *Helper) gitList(context.Context) ([]*protocol.Message, error) {
	return nil, nil
}
