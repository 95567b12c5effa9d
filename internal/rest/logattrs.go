package rest

import "log/slog"

// levelFor logs server faults as errors and everything else at Info.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
