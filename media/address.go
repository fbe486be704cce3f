package media

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrNotPublic is wrapped by every refusal to connect to an address that is
// not on the public internet.
var ErrNotPublic = errors.New("address is not public")

// nonPublic are the ranges the proxy never connects to, beyond what netip's
// predicates name (loopback, private, link-local, multicast, unspecified):
// shared, reserved, documentation and benchmarking ranges, and IPv6 ranges
// that embed or translate IPv4 addresses (a NAT64 or 6to4 address can reach
// a private IPv4 host).
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT, shared address space
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/96",           // IPv4-compatible (deprecated)
		"64:ff9b::/96",    // NAT64
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments, Teredo included
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing
		"fec0::/10",       // site-local (deprecated)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Public reports whether a is an address on the public internet, the only
// kind the proxy connects to. IPv4-mapped IPv6 addresses are judged as the
// IPv4 address they carry.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// dialGuard is a net.Dialer Control function: it runs after DNS, for the
// very address about to be dialed, so neither a DNS answer nor a redirect
// can lead the proxy to an address it refuses. allowLoopback is for tests
// that run TLS servers on 127.0.0.1.
func dialGuard(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if network != "tcp4" && network != "tcp6" {
			return fmt.Errorf("media: refusing to dial %s %s: only TCP", network, address)
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("media: refusing to dial %q: %w", address, err)
		}
		if Public(ap.Addr()) || allowLoopback && ap.Addr().Unmap().IsLoopback() {
			return nil
		}
		return fmt.Errorf("media: refusing to dial %s: %w", ap.Addr(), ErrNotPublic)
	}
}
