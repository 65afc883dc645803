// Package events carries live updates from committed database changes to
// browsers and API clients.
//
// The path of one change is:
//
//  1. The code that writes calls [Notify] with its transaction. Notify runs
//     pg_notify on the single channel [Channel] with a small JSON payload
//     ({"topic": "...", "type": "...", "data": {...}}), so PostgreSQL sends
//     nothing unless and until the transaction commits, and sends notifications
//     in commit order.
//  2. Every process runs one [Listener]. It holds one dedicated LISTEN
//     connection (built on github.com/jackc/pgxlisten), reconnects by itself
//     with backoff when the connection is lost, and hands every notification to
//     the process's [Broker].
//  3. The [Broker] fans each event out to the Server-Sent Events streams of the
//     subscribers of its topic in this process, using github.com/r3labs/sse/v2
//     to write the streams. Browsers subscribe in [FormatHTML] and receive
//     messages produced by a pluggable [Renderer] (the web layer renders
//     fragments for htmx there); API clients subscribe in [FormatJSON] and
//     receive the event itself, named after its type.
//
// Why one channel: pgxlisten registers its handlers before it starts
// listening, so per-topic channels would need LISTEN and UNLISTEN on every
// subscribe and unsubscribe, racing against reconnects. One channel keeps one
// LISTEN per process with no churn; every instance receives every event and
// filters by topic in memory, which is cheap because events carry ids, not
// content. Topics are plain strings built by [UserTopic] and [WorkbookTopic].
//
// What is not guaranteed: delivery is best effort. Events committed while a
// Listener is reconnecting are not replayed; once it listens again, every
// stream of its process gets a [ResyncType] message ([Broker.Resync]) and
// should reload the state it shows. A subscriber that cannot keep up is
// disconnected (see [Broker]); EventSource clients reconnect on their own,
// and pages should reload the state they show when they do.
//
// Authorization is the caller's job: [Broker.ServeHTTP] serves a topic to
// whoever the handler in front of it lets through, and takes the
// [Credentials] it let them through with. A stream is one long request, so
// the Broker keeps checking them: every [DefaultRecheckInterval] (see
// BrokerOptions.RecheckInterval), at once when a [TypeAuthChanged] event
// names the stream's user, and at their expiry; when they fail, the stream
// ends.
package events
