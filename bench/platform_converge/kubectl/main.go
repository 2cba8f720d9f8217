// Command kubectl is the real kubectl (k8s.io/kubectl), built from the Go module proxy at the
// version of the tests' control plane: the same main as k8s.io/kubernetes/cmd/kubectl. The
// platform_converge bench uses it as the floor (`kubectl apply --server-side`).
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// the client auth plugins kubectl ships with
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
