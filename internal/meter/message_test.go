package meter

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProblemMessagesNameNoContent(t *testing.T) {
	for _, p := range []Problem{
		{Kind: ReadFailed, Channel: "/x/energy_uj", Err: errors.New("parse: not a decimal number"), Held: true},
		{Kind: Reset, Channel: "/x/energy_uj"},
		{Kind: Implausible, Channel: "/x/energy_uj", Power: 2000},
		{Kind: Implausible, Channel: "/x/energy_uj", Power: 5000, Ceiling: 2000, Interval: 10e9, Share: true},
		{Kind: Reset, Channel: "/x/energy_uj", Share: true},
		{Kind: Ambiguous, Channel: "/x/energy_uj"},
		{Kind: Stale, Channel: "/x/energy_uj"},
		{Kind: ZeroInterval},
		{Kind: Missing, Channel: "package 1", Err: errors.New("gone")},
		{Kind: Moved, Channel: "/x/energy_uj", Share: true},
		{Kind: Moved, Channel: "/x/energy_uj"},
	} {
		_, msg := p.Message()
		require.NotEmpty(t, msg)
		require.Contains(t, msg, p.Channel)
	}
}
