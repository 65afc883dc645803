package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/agent"
)

// AgentTurnWorker runs agent.TurnArgs: one assistant turn of an agent
// session.
type AgentTurnWorker struct {
	river.WorkerDefaults[agent.TurnArgs]
	Agent *agent.Service
}

// Timeout is off: a turn is bounded by the agent's own wall-time limit,
// and the job is leased (lease.go), so it is rescued and resumed from its
// last committed step when its process dies.
func (w *AgentTurnWorker) Timeout(*river.Job[agent.TurnArgs]) time.Duration { return -1 }

// Work runs (or resumes) the turn.
func (w *AgentTurnWorker) Work(ctx context.Context, job *river.Job[agent.TurnArgs]) error {
	return w.Agent.RunTurn(ctx, job.Args, job.Attempt >= job.MaxAttempts)
}
