package main

import (
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/xds"
)

// In Istio 1.20 the fake discovery server lives in pilot/pkg/xds (it moved to pilot/test/xds in 1.21).
func newFakeServer(t *failer, objects []k8sruntime.Object, istioConfig string, m *meshconfig.MeshConfig) generator {
	return xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		KubernetesObjects: objects,
		ConfigString:      istioConfig,
		MeshConfig:        m,
	})
}
