package memory_test

import (
	"testing"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/memory"
)

func TestConformance(t *testing.T) {
	keyringtest.Run(t, memory.New(), "mcpcred-test")
}
