package oauth

import "os/exec"

// startDetached starts the opener with no stdin or output (a browser's chatter
// must not reach mcpcred's stderr) and reaps it in the background.
func startDetached(cmd *exec.Cmd) error {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
