package main

import (
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/test/xds"
)

// From Istio 1.21 the fake discovery server lives in pilot/test/xds.
func newFakeServer(t *failer, objects []k8sruntime.Object, istioConfig string, m *meshconfig.MeshConfig) generator {
	return xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		KubernetesObjects: objects,
		ConfigString:      istioConfig,
		MeshConfig:        m,
	})
}
