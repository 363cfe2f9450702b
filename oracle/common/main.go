// Command oracle asks real istiod code what a sidecar would receive.
//
// It reads one bed state (Kubernetes objects, Istio config, mesh config and the proxies to
// generate for) as JSON on stdin, builds Istio's in-process fake discovery server around it,
// and prints, per proxy, a config dump in the shape the Envoy admin endpoint
// `config_dump?include_eds` returns. Pilot feature flags are read from the environment when
// istiod's packages initialise, so a bed's pilot env is set on this process by the caller.
//
// This file is shared by every Istio minor; fake.go beside it (one per minor) holds the only
// per-version difference: where the fake discovery server lives.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/mesh"
	istiolog "istio.io/istio/pkg/log"
)

// Input is one bed state, as oracle/inputs.ts computes it from the repository.
type Input struct {
	InputsHash  string            `json:"inputsHash"`
	Kubernetes  []json.RawMessage `json:"kubernetes"`
	IstioConfig string            `json:"istioConfig"`
	MeshConfig  string            `json:"meshConfig"`
	Proxies     []ProxyInput      `json:"proxies"`
}

// ProxyInput is the sidecar to generate for: the pod it runs in and the Istio version it reports.
type ProxyInput struct {
	Pod          string            `json:"pod"`
	Namespace    string            `json:"namespace"`
	IP           string            `json:"ip"`
	Labels       map[string]string `json:"labels"`
	IstioVersion string            `json:"istioVersion"`
}

// Record says which istiod code produced a dump and from which inputs.
type Record struct {
	IstioModule string `json:"istioModule"`
	IstioCommit string `json:"istioCommit"`
	GoVersion   string `json:"goVersion"`
	InputsHash  string `json:"inputsHash"`
}

// failer satisfies istio.io/istio/pkg/test.Failer outside `go test`: any failure ends the process.
type failer struct{ cleanups []func() }

func (f *failer) Fail()                             { f.die("failed") }
func (f *failer) FailNow()                          { f.die("failed") }
func (f *failer) Fatal(args ...any)                 { f.die(fmt.Sprint(args...)) }
func (f *failer) Fatalf(format string, args ...any) { f.die(fmt.Sprintf(format, args...)) }
func (f *failer) Log(args ...any)                   { fmt.Fprintln(os.Stderr, args...) }
func (f *failer) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (f *failer) Errorf(format string, args ...any) { f.die(fmt.Sprintf(format, args...)) }
func (f *failer) TempDir() string {
	d, err := os.MkdirTemp("", "oracle-")
	if err != nil {
		f.die(err.Error())
	}
	f.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}
func (f *failer) Helper()           {}
func (f *failer) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *failer) Skip(args ...any)  { f.die("skip: " + fmt.Sprint(args...)) }
func (f *failer) die(msg string) {
	fmt.Fprintln(os.Stderr, "oracle: istiod fake server failed:", msg)
	os.Exit(1)
}
func (f *failer) close() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// generator is the part of Istio's fake discovery server the oracle uses; every minor has it.
type generator interface {
	SetupProxy(p *model.Proxy) *model.Proxy
	Listeners(p *model.Proxy) []*listenerv3.Listener
	Clusters(p *model.Proxy) []*clusterv3.Cluster
	Routes(p *model.Proxy) []*routev3.RouteConfiguration
	Endpoints(p *model.Proxy) []*endpointv3.ClusterLoadAssignment
}

func main() {
	// istiod logs to stdout by default; stdout carries the dumps.
	logOptions := istiolog.DefaultOptions()
	logOptions.OutputPaths = []string{"stderr"}
	if err := istiolog.Configure(logOptions); err != nil {
		fmt.Fprintln(os.Stderr, "oracle: configuring istiod's logger:", err)
		os.Exit(1)
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	var input Input
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&input); err != nil {
		return fmt.Errorf("reading input JSON: %w", err)
	}
	objects, err := decodeObjects(input.Kubernetes)
	if err != nil {
		return err
	}
	m, err := mesh.ApplyMeshConfigDefaults(input.MeshConfig)
	if err != nil {
		return fmt.Errorf("mesh config: %w", err)
	}
	t := &failer{}
	defer t.close()
	server := newFakeServer(t, objects, input.IstioConfig, m)

	record := buildRecord(input.InputsHash)
	dumps := map[string]json.RawMessage{}
	for _, p := range input.Proxies {
		dump, err := dumpFor(server, p, m)
		if err != nil {
			return fmt.Errorf("proxy %s.%s: %w", p.Pod, p.Namespace, err)
		}
		dumps[p.Pod+"."+p.Namespace] = dump
	}
	result, err := json.Marshal(map[string]any{"record": record, "dumps": dumps})
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, result, "", " "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	_, err = out.Write(pretty.Bytes())
	return err
}

func decodeObjects(raw []json.RawMessage) ([]k8sruntime.Object, error) {
	decoder := scheme.Codecs.UniversalDeserializer()
	objects := make([]k8sruntime.Object, 0, len(raw))
	for i, r := range raw {
		obj, _, err := decoder.Decode(r, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("kubernetes object %d: %w", i, err)
		}
		objects = append(objects, obj)
	}
	return objects, nil
}

func buildRecord(hash string) Record {
	r := Record{GoVersion: runtime.Version(), InputsHash: hash}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "istio.io/istio" {
				r.IstioModule = dep.Version
				if i := strings.LastIndex(dep.Version, "-"); i >= 0 {
					r.IstioCommit = dep.Version[i+1:]
				}
			}
		}
	}
	return r
}

func dumpFor(server generator, p ProxyInput, m *meshconfig.MeshConfig) (json.RawMessage, error) {
	proxy := server.SetupProxy(&model.Proxy{
		Type:            model.SidecarProxy,
		ID:              p.Pod + "." + p.Namespace,
		IPAddresses:     []string{p.IP},
		ConfigNamespace: p.Namespace,
		DNSDomain:       p.Namespace + ".svc." + m.GetTrustDomain(),
		Labels:          p.Labels,
		Metadata: &model.NodeMetadata{
			Namespace:    p.Namespace,
			Labels:       p.Labels,
			IstioVersion: p.IstioVersion,
			ClusterID:    cluster.ID("Kubernetes"),
		},
	})
	listeners := server.Listeners(proxy)
	clusters := server.Clusters(proxy)
	routes := server.Routes(proxy)
	endpoints := server.Endpoints(proxy)
	sort.Slice(listeners, func(i, j int) bool { return listeners[i].Name < listeners[j].Name })
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	sort.Slice(routes, func(i, j int) bool { return routes[i].Name < routes[j].Name })
	sort.Slice(endpoints, func(i, j int) bool { return endpoints[i].ClusterName < endpoints[j].ClusterName })
	for _, e := range endpoints {
		sortEndpoints(e)
	}

	bootstrap := &adminv3.BootstrapConfigDump{Bootstrap: nil}
	node, err := nodeOf(p)
	if err != nil {
		return nil, err
	}
	lds := &adminv3.ListenersConfigDump{}
	for _, l := range listeners {
		a, err := anypb.New(l)
		if err != nil {
			return nil, err
		}
		lds.DynamicListeners = append(lds.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.Name, ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: a},
		})
	}
	cds := &adminv3.ClustersConfigDump{}
	for _, c := range clusters {
		a, err := anypb.New(c)
		if err != nil {
			return nil, err
		}
		cds.DynamicActiveClusters = append(cds.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{Cluster: a})
	}
	rds := &adminv3.RoutesConfigDump{}
	for _, r := range routes {
		a, err := anypb.New(r)
		if err != nil {
			return nil, err
		}
		rds.DynamicRouteConfigs = append(rds.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{RouteConfig: a})
	}
	eds := &adminv3.EndpointsConfigDump{}
	for _, e := range endpoints {
		a, err := anypb.New(e)
		if err != nil {
			return nil, err
		}
		eds.DynamicEndpointConfigs = append(eds.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{EndpointConfig: a})
	}
	configs := []proto.Message{bootstrapWith(bootstrap, node), lds, cds, rds, eds}
	parts := make([]json.RawMessage, 0, len(configs))
	for _, c := range configs {
		a, err := anypb.New(c)
		if err != nil {
			return nil, err
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("marshal %T: %w", c, err)
		}
		parts = append(parts, b)
	}
	return json.Marshal(map[string]any{"configs": parts})
}

// nodeOf is the bootstrap node pilot-agent would announce (id sidecar~IP~POD.NS~NS.svc.cluster.local).
func nodeOf(p ProxyInput) (*corev3.Node, error) {
	labels := map[string]any{}
	for k, v := range p.Labels {
		labels[k] = v
	}
	md, err := structpb.NewStruct(map[string]any{
		"ISTIO_VERSION": p.IstioVersion,
		"NAMESPACE":     p.Namespace,
		"NAME":          p.Pod,
		"LABELS":        labels,
		"INSTANCE_IPS":  p.IP,
	})
	if err != nil {
		return nil, err
	}
	return &corev3.Node{
		Id:       fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", p.IP, p.Pod, p.Namespace, p.Namespace),
		Cluster:  p.Labels["app"] + "." + p.Namespace,
		Metadata: md,
	}, nil
}

func bootstrapWith(b *adminv3.BootstrapConfigDump, node *corev3.Node) *adminv3.BootstrapConfigDump {
	b.Bootstrap = newBootstrap(node)
	return b
}

// sortEndpoints orders hosts by address so a dump does not depend on informer order.
func sortEndpoints(cla *endpointv3.ClusterLoadAssignment) {
	key := func(e *endpointv3.LbEndpoint) string {
		if h := e.GetEndpoint(); h != nil {
			if s := h.GetAddress().GetSocketAddress(); s != nil {
				return fmt.Sprintf("%s:%d", s.GetAddress(), s.GetPortValue())
			}
		}
		return ""
	}
	for _, loc := range cla.Endpoints {
		sort.SliceStable(loc.LbEndpoints, func(i, j int) bool { return key(loc.LbEndpoints[i]) < key(loc.LbEndpoints[j]) })
	}
}
