// Command schedcheck answers, for each pod, on which nodes the kube-scheduler's node
// filters would let it run: the NodeAffinity filter (nodeSelector and required node
// affinity) and the TaintToleration filter (NoSchedule and NoExecute taints). It calls the
// helpers those scheduler plugins call (k8s.io/component-helpers), so the answer is the
// scheduler's, not a re-implementation; the local control plane runs no scheduler.
//
// Input on stdin: {"nodes": [Node...], "pods": [Pod...]}. Output on stdout:
// {"<pod name>": {"<node name>": "" (fits) or "<why not>"}}.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	v1 "k8s.io/api/core/v1"
	corev1 "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

type input struct {
	Nodes []v1.Node `json:"nodes"`
	Pods  []v1.Pod  `json:"pods"`
}

func why(pod *v1.Pod, node *v1.Node) string {
	match, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)
	if err != nil {
		return fmt.Sprintf("node affinity: %v", err)
	}
	if !match {
		return "node(s) didn't match Pod's node affinity/selector"
	}
	taint, untolerated := corev1.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints,
		pod.Spec.Tolerations, func(t *v1.Taint) bool {
			return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
		}, true)
	if untolerated {
		return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value)
	}
	return ""
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "schedcheck: bad input:", err)
		os.Exit(2)
	}
	out := map[string]map[string]string{}
	for i := range in.Pods {
		pod := &in.Pods[i]
		out[pod.Name] = map[string]string{}
		for j := range in.Nodes {
			out[pod.Name][in.Nodes[j].Name] = why(pod, &in.Nodes[j])
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "schedcheck:", err)
		os.Exit(1)
	}
}
