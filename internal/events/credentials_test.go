package events_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/events"
)

// streamOf returns the query of a stream of topic in format run on user's
// credentials.
func streamOf(topic, format, user string) url.Values {
	return url.Values{"topic": {topic}, "format": {format}, "user": {user}}
}

// mustStayOpen fails if c ends within d.
func (c *sseClient) mustStayOpen(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case <-c.ended:
		tb.Fatal("a stream whose credentials hold ended")
	case <-time.After(d):
	}
}

func TestStreamEndsWhenItsCredentialsFailTheirPeriodicCheck(t *testing.T) {
	t.Parallel()
	const interval = 50 * time.Millisecond
	server := MustStreamServer(t, events.BrokerOptions{RecheckInterval: interval})
	revoked, kept := t.Name()+"/revoked", t.Name()+"/kept"
	topic := UniqueTopic(t)
	ending := MustSubscribeWith(t, server, streamOf(topic, "json", revoked))
	staying := MustSubscribeWith(t, server, streamOf(topic, "html", kept))

	testCredentials.revoke(revoked)
	ending.MustEnd(t)
	staying.mustStayOpen(t, 4*interval)
	if got := server.broker.Subscribers(); got != 1 {
		t.Errorf("Subscribers() = %d, want 1", got)
	}
}

// An auth.changed event, through NOTIFY and the Listener, makes the streams
// of its user check their credentials at once, even with the periodic check
// turned off; it is a signal for the Broker, not an event for streams.
func TestAuthChangedEventRechecksTheUsersStreamsAtOnce(t *testing.T) {
	t.Parallel()
	inst := MustInstance(t, "events-auth-changed", events.BrokerOptions{RecheckInterval: -1})
	user, other := t.Name()+"/user", t.Name()+"/other"
	userTopic := events.UserTopic(user)
	onUserTopic := MustSubscribeWith(t, inst.streamServer, streamOf(userTopic, "html", user))
	onWorkbook := MustSubscribeWith(t, inst.streamServer, streamOf(UniqueTopic(t), "json", user))
	// Another user's stream of the same user topic (no handler would
	// allow it; here it shows what the topic carries).
	watcher := MustSubscribeWith(t, inst.streamServer, streamOf(userTopic, "json", other))

	testCredentials.revoke(user)
	onWorkbook.mustStayOpen(t, 100*time.Millisecond) // nothing checks without a reason
	mustNotify(t, inst.pool, userTopic, events.TypeAuthChanged, 1)
	mustNotify(t, inst.pool, userTopic, "marker", 2)
	onUserTopic.MustEnd(t)
	onWorkbook.MustEnd(t)
	if got := mustNextType(t, watcher); got != "marker" {
		t.Errorf("first event on the user topic %q, want marker: auth.changed is not delivered", got)
	}
}

func TestStreamEndsAtItsCredentialsExpiry(t *testing.T) {
	t.Parallel()
	server := MustStreamServer(t, events.BrokerOptions{RecheckInterval: -1})
	const lifetime = 300 * time.Millisecond
	start := time.Now()
	query := streamOf(UniqueTopic(t), "json", t.Name())
	query.Set("expires", strconv.FormatInt(start.Add(lifetime).UnixMilli(), 10))
	c := MustSubscribeWith(t, server, query)
	c.MustEnd(t)
	if took := time.Since(start); took < lifetime-10*time.Millisecond {
		t.Errorf("the stream ended after %s, before its credentials expired (%s)", took, lifetime)
	}
}

func TestSubscriptionWithoutCredentialsCheckIsRefused(t *testing.T) {
	t.Parallel()
	broker := events.NewBroker(events.BrokerOptions{Logger: testLogger(t)})
	defer broker.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/events", nil)
	broker.ServeHTTP(rec, req, UniqueTopic(t), events.FormatJSON, events.Credentials{UserID: "u"})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
	broker.Publish(events.Event{Topic: "user:u", Type: events.TypeAuthChanged, Data: json.RawMessage(`{}`)})
}
