package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The chorus_seen bucket's stream and the subject prefix of its keys, as
// JetStream KV names them.
const (
	seenStream  = "KV_" + SeenBucket
	seenSubject = "$KV." + SeenBucket + "."
	// maxSeenLookup is how many keys one lookup request may ask for (the
	// server answers at most 1024 messages per multi-get).
	maxSeenLookup = 1024
)

// SeenAmong reports which of keys are in the chorus_seen bucket, asking
// the server for all of them at once (a batched direct get of each key's
// last value, 1024 keys per request) instead of one round trip per key.
// A deleted or purged key is not seen.
func (c *Conn) SeenAmong(ctx context.Context, keys []string) (map[string]bool, error) {
	seen := map[string]bool{}
	for start := 0; start < len(keys); start += maxSeenLookup {
		if err := c.seenAmong(ctx, keys[start:min(len(keys), start+maxSeenLookup)], seen); err != nil {
			return nil, fmt.Errorf("bus: seen lookup: %w", err)
		}
	}
	return seen, nil
}

func (c *Conn) seenAmong(ctx context.Context, keys []string, seen map[string]bool) error {
	if len(keys) == 0 {
		return nil
	}
	subjects := make([]string, len(keys))
	for i, k := range keys {
		subjects[i] = seenSubject + k
	}
	req, err := json.Marshal(struct {
		MultiLast []string `json:"multi_last"`
	}{subjects})
	if err != nil {
		return err
	}
	inbox := c.NC.NewRespInbox()
	sub, err := c.NC.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.NC.PublishRequest("$JS.API.DIRECT.GET."+seenStream, inbox, req); err != nil {
		return err
	}
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return err
		}
		// Each found key comes as one message; the end of the batch, or
		// "none found", as a status.
		switch m.Header.Get("Status") {
		case "":
		case "204": // end of batch
			return nil
		case "404": // none of the keys
			return nil
		default:
			return fmt.Errorf("direct get: %s %s", m.Header.Get("Status"), m.Header.Get("Description"))
		}
		switch m.Header.Get("KV-Operation") {
		case "DEL", "PURGE":
			continue
		}
		key, ok := strings.CutPrefix(m.Header.Get(jetstream.SubjectHeader), seenSubject)
		if !ok {
			return errors.New("direct get: answer without a key subject")
		}
		seen[key] = true
	}
}

// SeenMsg is the message that marks key seen (a put to the bucket), for
// publishing with other messages in one pipelined batch.
func SeenMsg(key string) *nats.Msg {
	return &nats.Msg{Subject: seenSubject + key}
}
