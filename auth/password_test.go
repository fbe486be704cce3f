package auth

import (
	"strings"
	"testing"
)

// referenceHash was made by the reference argon2 command line (Debian's
// argon2 package), so our encoding and costs are checked against an
// implementation other than the one we call:
//
//	echo -n "correct horse battery staple" | argon2 chorus-salt-0001 -id -t 3 -m 16 -p 4 -l 32
const referenceHash = "$argon2id$v=19$m=65536,t=3,p=4$Y2hvcnVzLXNhbHQtMDAwMQ$OsGqHIuWnY679LudJaMXIdGw40SGN/MHdV6s+zp1CBM"

func TestArgon2Params(t *testing.T) {
	// RFC 9106, section 4, second recommended option.
	want := Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
	if DefaultParams != want {
		t.Fatalf("DefaultParams = %+v, want %+v", DefaultParams, want)
	}
	h := newHasher(DefaultParams, 1)
	hash, err := h.Hash(t.Context(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("hash %q does not record the default costs", hash)
	}
	p, salt, key, err := decodeHash(hash)
	if err != nil || p.Memory != 65536 || p.Time != 3 || p.Threads != 4 || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("decoded %+v salt %d key %d: %v", p, len(salt), len(key), err)
	}
	// The reference implementation's hash verifies with the same costs.
	ok, stale, err := h.Verify(t.Context(), testPassword, referenceHash)
	if !ok || stale || err != nil {
		t.Fatalf("reference hash: ok %v stale %v err %v", ok, stale, err)
	}

	// The rest with cheap costs, to keep the test quick under -race.
	cheap := newHasher(testParams, 1)
	one, _ := cheap.Hash(t.Context(), testPassword)
	two, _ := cheap.Hash(t.Context(), testPassword)
	if one == two {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if ok, stale, err := cheap.Verify(t.Context(), testPassword, one); !ok || stale || err != nil {
		t.Fatalf("own hash: ok %v stale %v err %v", ok, stale, err)
	}
	if ok, _, _ := cheap.Verify(t.Context(), testPassword+"!", one); ok {
		t.Fatal("a wrong password verified")
	}

	// A hash made with other costs still verifies and is reported stale.
	costlier := testParams
	costlier.Memory, costlier.Time = 128, 2
	if ok, stale, _ := newHasher(costlier, 1).Verify(t.Context(), testPassword, one); !ok || !stale {
		t.Fatalf("older-cost hash: ok %v stale %v", ok, stale)
	}
}

func TestDecodeHashRejects(t *testing.T) {
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", strings.Replace(referenceHash, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(referenceHash, "v=19", "v=16", 1)},
		{"memory bomb", strings.Replace(referenceHash, "m=65536", "m=16777216", 1)},
		{"too many passes", strings.Replace(referenceHash, "t=3", "t=1000", 1)},
		{"no threads", strings.Replace(referenceHash, "p=4", "p=0", 1)},
		{"bad salt", strings.Replace(referenceHash, "Y2hvcnVzLXNhbHQtMDAwMQ", "!!", 1)},
		{"short tag", referenceHash[:len(referenceHash)-30]},
		{"missing part", "$argon2id$v=19$m=65536,t=3,p=4$Y2hvcnVzLXNhbHQtMDAwMQ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, err := decodeHash(tc.hash); err == nil {
				t.Fatalf("decodeHash(%q) accepted", tc.hash)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name, password, user string
		ok                   bool
	}{
		{"long enough", testPassword, "ana", true},
		{"fifteen runes", "ąęółśżźćńąęółśż", "ana", true},
		{"too short", "short-password", "ana", false},
		{"holds the name", "ana-is-the-best-moderator", "ana", false},
		{"holds the name in capitals", "ANA-is-the-best-moderator", "ana", false},
		{"too long", strings.Repeat("x", MaxPasswordBytes+1), "ana", false},
		{"not utf-8", "\xff\xfe" + strings.Repeat("x", 20), "ana", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.password, tc.user)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPassword: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// A login with a hash made under older costs stores a new one.
func TestLoginRehashesStaleHash(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Moderator)
	rec, rev, err := h.store.userRecord(t.Context(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	rec.PasswordHash = referenceHash // made with DefaultParams, not testParams
	if err := h.store.update(t.Context(), userPrefix+"ana", rec, rev); err != nil {
		t.Fatal(err)
	}
	h.browser().login("ana", testPassword).want(t, 200)
	rec, _, _ = h.store.userRecord(t.Context(), "ana")
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash not renewed with current costs: %s", rec.PasswordHash)
	}
	h.browser().login("ana", testPassword).want(t, 200)
}

// BenchmarkHashDefault measures one sign-in's hashing cost.
func BenchmarkHashDefault(b *testing.B) {
	h := newHasher(DefaultParams, 1)
	for b.Loop() {
		if _, err := h.Hash(b.Context(), testPassword); err != nil {
			b.Fatal(err)
		}
	}
}
