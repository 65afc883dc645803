package events_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/events"
)

// eventsPerOp is how many events one operation of BenchmarkSSEFanout sends,
// one after another, each waited for by every subscriber.
const eventsPerOp = 50

// BenchmarkSSEFanout measures live delivery over real HTTP: an event is
// committed with NOTIFY through PostgreSQL, the Listener receives it and the
// Broker writes it to every SSE subscriber of its topic. Each event's
// latency runs from just before the NOTIFY is sent until the last of the
// subscribers has read it; p50/p95 are over every event of the run. The
// baseline is one subscriber, measured in the same run.
func BenchmarkSSEFanout(b *testing.B) {
	var baselineP95 float64
	for _, subscribers := range []int{1, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) {
			inst := MustInstance(b, "bench-sse-fanout", events.BrokerOptions{})
			topic := UniqueTopic(b)
			clients := make([]*sseClient, subscribers)
			for i := range clients {
				clients[i] = MustSubscribe(b, inst.streamServer, topic, "json")
			}
			var lat []time.Duration
			b.ResetTimer()
			for i := range b.N * eventsPerOp {
				t0 := time.Now()
				mustNotify(b, inst.pool, topic, "bench", i)
				for _, c := range clients {
					c.MustNext(b)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			q := func(q float64) float64 {
				i := min(len(lat)-1, max(0, int(q*float64(len(lat))+0.5)-1))
				return float64(lat[i]) / float64(time.Millisecond)
			}
			p95 := q(0.95)
			if subscribers == 1 {
				baselineP95 = p95
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(p95, "p95-ms")
			if baselineP95 > 0 {
				b.ReportMetric(p95/baselineP95, "p95/baseline")
			}
		})
	}
}
