// Command etcd is the real etcd server (go.etcd.io/etcd/server/v3), built from
// the Go module proxy so the tests have a control plane without downloading
// release binaries.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
