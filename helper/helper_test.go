package helper_test

import (
	"testing"

	"github.com/mcpcred/mcpcred/backends/memory"
	"github.com/mcpcred/mcpcred/helper/helpertest"
)

func TestConformanceMemory(t *testing.T) {
	helpertest.Run(t, memory.New())
}
