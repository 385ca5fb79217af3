// Command probe answers the local node's smoke test from inside a pod, one check per argument:
//
//	probe api          GET the pod's own namespace through the in-cluster Service address with the
//	                   ServiceAccount token and CA the kubelet mounted (what every client does)
//	probe address      print the pod's IPv4 addresses (the bridge must have given one)
//	probe dns          resolve kubernetes.default.svc through the cluster DNS to the Service address
//	probe xfs=PATH     PATH is an XFS filesystem this pod can write (a local PersistentVolume)
//	probe privileged   succeed only with CAP_SYS_ADMIN and the host's /dev (a privileged pod)
//	probe sleep        sleep until terminated (a DaemonSet's long-running container)
//	probe serve=PORT   answer every TCP connection on PORT with one line naming this pod, until
//	                   terminated (the backend of a Service)
//	probe connect=HOST:PORT  connect to HOST:PORT (a Service's name), within 30 s, and print the line it
//	                   answers
//
// It prints one line per check and exits 1 on the first failure, naming it.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"
	capSysAdmin    = 21
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe api|address|dns|xfs=PATH|privileged|sleep|serve=PORT|connect=HOST:PORT ...")
	}
	for _, check := range os.Args[1:] {
		var err error
		switch check {
		case "api":
			err = api()
		case "address":
			err = address()
		case "dns":
			err = dns()
		case "privileged":
			err = privileged()
		case "sleep":
			sleep()
		default:
			if path, ok := strings.CutPrefix(check, "xfs="); ok {
				err = xfs(path)
				break
			}
			if port, ok := strings.CutPrefix(check, "serve="); ok {
				err = serve(port)
				break
			}
			if target, ok := strings.CutPrefix(check, "connect="); ok {
				err = connect(target)
				break
			}
			err = fmt.Errorf("unknown check %q", check)
		}
		if err != nil {
			fail(check + ": " + err.Error())
		}
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "probe: FAIL "+message)
	os.Exit(1)
}

func api() error {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return fmt.Errorf("KUBERNETES_SERVICE_HOST/PORT are not set: the kubelet found no kubernetes Service")
	}
	token, err := os.ReadFile(serviceAccount + "/token")
	if err != nil {
		return err
	}
	namespace, err := os.ReadFile(serviceAccount + "/namespace")
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(serviceAccount + "/ca.crt")
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return fmt.Errorf("%s/ca.crt holds no certificate", serviceAccount)
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	url := "https://" + net.JoinHostPort(host, port) + "/api/v1/namespaces/" + string(namespace)
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(response.Body, 4096))
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", url, response.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Printf("api: GET %s: HTTP 200\n", url)
	return nil
}

func address() error {
	addresses, err := net.InterfaceAddrs()
	if err != nil {
		return err
	}
	var found []string
	for _, a := range addresses {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			found = append(found, n.IP.String())
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("no IPv4 address besides loopback")
	}
	fmt.Printf("address: %s\n", strings.Join(found, " "))
	return nil
}

func dns() error {
	// The short name needs the search path the kubelet wrote into resolv.conf.
	addresses, err := net.LookupHost("kubernetes.default.svc")
	if err != nil {
		return err
	}
	host := os.Getenv("KUBERNETES_SERVICE_HOST")
	for _, a := range addresses {
		if a == host {
			fmt.Printf("dns: kubernetes.default.svc is %s\n", a)
			return nil
		}
	}
	return fmt.Errorf("kubernetes.default.svc resolved to %v, not the Service address %s", addresses, host)
}

func xfs(path string) error {
	const xfsMagic = 0x58465342
	var fs syscall.Statfs_t
	if err := syscall.Statfs(path, &fs); err != nil {
		return err
	}
	if fs.Type != xfsMagic {
		return fmt.Errorf("%s is filesystem type %#x, not XFS", path, fs.Type)
	}
	file := path + "/probe-wrote-this"
	if err := os.WriteFile(file, []byte("blockvault\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("xfs: %s is XFS, wrote %s\n", path, file)
	return nil
}

func privileged() error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if !strings.HasPrefix(line, "CapEff:") {
			continue
		}
		effective, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapEff:")), 16, 64)
		if err != nil {
			return err
		}
		// Not "all capabilities": a privileged container gets the runtime's own, which a host
		// may have trimmed. CAP_SYS_ADMIN is the one an unprivileged container never has.
		if effective&(1<<capSysAdmin) == 0 {
			return fmt.Errorf("no CAP_SYS_ADMIN (effective capabilities %x)", effective)
		}
	}
	control, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("the host's /dev/loop-control: %v", err)
	}
	control.Close()
	fmt.Println("privileged: CAP_SYS_ADMIN, /dev/loop-control opens")
	return nil
}

func sleep() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	os.Exit(0)
}

func serve(port string) error {
	listener, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	name, _ := os.Hostname()
	fmt.Println("serve: listening on port " + port)
	for {
		conn, err := listener.Accept()
		if err != nil {
			return err
		}
		fmt.Fprintf(conn, "hello from %s\n", name)
		conn.Close()
	}
}

// connect retries for 30 s: kube-proxy programs a new Service's endpoints a moment after its pod is Ready.
func connect(target string) error {
	deadline := time.Now().Add(30 * time.Second)
	conn, err := net.DialTimeout("tcp", target, 10*time.Second)
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		conn, err = net.DialTimeout("tcp", target, 10*time.Second)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	fmt.Printf("connect: %s answered %q\n", target, strings.TrimSpace(string(line)))
	return nil
}
