package app

import (
	"context"
	"errors"

	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/assets"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/llmkeys"
	"github.com/scratchpad/scratchpad/internal/webfetch"
)

// The agent names what it needs from web pages, prompt assets and users'
// keys as small interfaces; these adapt the app's services to them.

type agentPages struct{ f *webfetch.Fetcher }

func (p agentPages) Load(ctx context.Context, url string) (agent.LoadedPage, error) {
	pg, err := p.f.Load(ctx, url)
	if err != nil {
		return agent.LoadedPage{}, err
	}
	return agent.LoadedPage{URL: pg.URL, Title: pg.Title, Text: pg.Text}, nil
}

// agentAssetBudget bounds the prompt assets' text in one turn's context.
const agentAssetBudget = 60_000

type agentAssets struct{ s *assets.Service }

func (a agentAssets) AssetsForTurn(ctx context.Context, ownerID string, selected []string) ([]agent.Asset, error) {
	inc, _, err := a.s.ForMessage(ctx, ownerID, selected, agentAssetBudget)
	if err != nil {
		return nil, err
	}
	out := make([]agent.Asset, 0, len(inc))
	for _, i := range inc {
		out = append(out, agent.Asset{ID: i.ID, Name: i.Name, Text: i.Body})
	}
	return out, nil
}

// agentKeys gives the user's own or provisioned key; "" lets the agent use
// the server's key (or report no_key when there is none).
type agentKeys struct{ s *llmkeys.Service }

func (k agentKeys) UserKey(ctx context.Context, userID string) (string, error) {
	key, source, err := k.s.KeyFor(ctx, userID)
	if errors.Is(err, llm.ErrNoKey) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if source == llmkeys.SourceServer {
		return "", nil
	}
	return key, nil
}
