package main

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// newBootstrap carries only the node: explain reads the pod IP and Istio version from it.
func newBootstrap(node *corev3.Node) *bootstrapv3.Bootstrap {
	return &bootstrapv3.Bootstrap{Node: node}
}
