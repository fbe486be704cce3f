package config

import "log/slog"

// Secret is a credential read from the config. It never prints: String,
// GoString, JSON and slog all show "[redacted]". Call Reveal where the value
// is really needed.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) String() string   { return mask(s) }
func (s Secret) GoString() string { return mask(s) }

// LogValue keeps secrets out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(mask(s)) }

// MarshalJSON keeps secrets out of JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + mask(s) + `"`), nil }

// MarshalYAML keeps secrets out of YAML output.
func (s Secret) MarshalYAML() (any, error) { return mask(s), nil }

// MarshalText keeps secrets out of any text encoding.
func (s Secret) MarshalText() ([]byte, error) { return []byte(mask(s)), nil }

func mask(s Secret) string {
	if s == "" {
		return ""
	}
	return redacted
}
