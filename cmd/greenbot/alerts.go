package main

import (
	"fmt"
	"log/slog"

	"github.com/greencampus/powerinput/internal/greenbot/alert"
	"github.com/greencampus/powerinput/internal/greenbot/bot"
	"github.com/greencampus/powerinput/internal/greenbot/config"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
)

// alertRunners makes one runner per [[alert]] table (alert.NewRunner),
// reading InfluxDB and queueing its messages in q.
func alertRunners(cfg *config.Config, db *influx.Client, q alert.Queue, log *slog.Logger) ([]bot.Evaluator, error) {
	var out []bot.Evaluator
	for _, a := range cfg.Alerts {
		if cfg.StateDir == "" {
			return nil, fmt.Errorf("alert %s: state_dir is empty: alerts keep their state there", a.Name)
		}
		r, err := alert.NewRunner(a, db, cfg.InfluxDB.Database, cfg.InfluxDB.RetentionPolicy, cfg.StateDir, q, cfg.Location, log)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
