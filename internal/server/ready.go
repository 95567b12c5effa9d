package server

import "log/slog"

// readyAttrs are the attributes of the "parley ready" log line: every
// listener as the URL a client dials (its scheme says whether it speaks
// TLS), then the XMPP domain and the data dir. One line with attributes,
// so that a JSON log stays one parseable record; bound addresses, so that
// port 0 shows the port the system chose.
func (s *Server) readyAttrs() []any {
	tls := s.tlsConfig != nil
	pick := func(secure bool, plain, sec string) string {
		if secure {
			return sec
		}
		return plain
	}
	attrs := []any{
		slog.String("http", pick(tls, "http://", "https://")+s.httpLn.Addr().String()),
		slog.String("ws", pick(tls, "ws://", "wss://")+s.wsLn.Addr().String()),
		// The TCP listener starts in the clear; with a certificate it
		// offers STARTTLS, without one it cannot.
		slog.String("xmpp", "xmpp://"+s.xmppLn.Addr().String()+pick(tls, " (no TLS: no certificate)", " (STARTTLS)")),
	}
	if s.xmppsLn != nil {
		attrs = append(attrs, slog.String("xmpps", "xmpps://"+s.xmppsLn.Addr().String()+" (direct TLS)"))
	}
	if s.debugLn != nil {
		attrs = append(attrs, slog.String("debug", "http://"+s.debugLn.Addr().String()+"/debug/pprof/"))
	}
	if s.metricsLn != nil {
		attrs = append(attrs, slog.String("metrics", "http://"+s.metricsLn.Addr().String()+"/metrics"))
	}
	return append(attrs, slog.String("domain", s.cfg.Domain), slog.String("data_dir", s.cfg.DataDir))
}
