// golibcni: a reference driver for the compatibility tests, not part of cnitool.
//
// It runs add / check / del through the real Go libcni, with the command line and environment
// of the Go cnitool (NETCONFPATH, CNI_PATH, CNI_IFNAME, CNI_ARGS, CAP_ARGS, and CNI_CACHE_DIR for
// the cache directory), so tests/netns/test_go_libcni.py can show that our cnitool and a
// libcni-based tool undo each other's work and print the same bytes.
//
// Written for this project against the libcni API; built by the test fixture in GOPATH mode,
// offline, from Debian's golang-github-appc-cni-dev 1.1.2 source (libcni v1.1.2) in
// /usr/share/gocode (installed by .ci/install).
//
// Usage: golibcni add|check|del NETWORK NETNS
package main

import (
	"context"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "golibcni: "+format+"\n", args...)
	os.Exit(1)
}

func getenv(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// cniArgs splits CNI_ARGS as the Go cnitool does: pairs at ";", each pair at "=", both parts
// non-empty. (Our cnitool accepts more, conformance REQ-07; this driver is the reference.)
func cniArgs(text string) ([][2]string, error) {
	if text == "" {
		return nil, nil
	}
	var pairs [][2]string
	for _, pair := range strings.Split(text, ";") {
		parts := strings.Split(pair, "=")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("invalid CNI_ARGS pair %q", pair)
		}
		pairs = append(pairs, [2]string{parts[0], parts[1]})
	}
	return pairs, nil
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: golibcni add|check|del NETWORK NETNS")
	}
	verb, network := os.Args[1], os.Args[2]

	list, err := libcni.LoadConfList(getenv("NETCONFPATH", "/etc/cni/net.d"), network)
	if err != nil {
		fail("%v", err)
	}

	var capabilityArgs map[string]interface{}
	if text := os.Getenv("CAP_ARGS"); text != "" {
		if err := json.Unmarshal([]byte(text), &capabilityArgs); err != nil {
			fail("CAP_ARGS: %v", err)
		}
	}
	args, err := cniArgs(os.Getenv("CNI_ARGS"))
	if err != nil {
		fail("%v", err)
	}

	// CLI-02: the container ID is derived from the absolute namespace path.
	netns, err := filepath.Abs(os.Args[3])
	if err != nil {
		fail("%v", err)
	}
	digest := sha512.Sum512([]byte(netns))
	runtime := &libcni.RuntimeConf{
		ContainerID:    fmt.Sprintf("cnitool-%x", digest[:10]),
		NetNS:          netns,
		IfName:         getenv("CNI_IFNAME", "eth0"),
		Args:           args,
		CapabilityArgs: capabilityArgs,
	}

	// An empty cache dir makes libcni fall back to its default, /var/lib/cni.
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), os.Getenv("CNI_CACHE_DIR"), nil)
	ctx := context.Background()
	switch verb {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, runtime)
		if err != nil {
			fail("%v", err)
		}
		// As the Go cnitool: the result's own Print, which writes no final newline.
		if err := result.Print(); err != nil {
			fail("%v", err)
		}
	case "check":
		err = cni.CheckNetworkList(ctx, list, runtime)
	case "del":
		err = cni.DelNetworkList(ctx, list, runtime)
	default:
		fail("unknown verb %q", verb)
	}
	if err != nil {
		fail("%v", err)
	}
}
