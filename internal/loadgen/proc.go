package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssKiB is a process's resident memory (VmRSS), 0 when unknown.
func rssKiB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// cpuSeconds is a process's CPU time so far, user plus system (fields 14
// and 15 of /proc/PID/stat, in clock ticks); 0 when unknown.
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may itself hold
	// spaces and parentheses: count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return float64(utime+stime) / clockTicks()
}

// cpuSample is the CPU time used so far by the server, by this process
// (the load tool) and by the whole machine, in seconds, at a time.
type cpuSample struct {
	server, self, machine float64
	at                    time.Time
	serverIsSelf          bool // a test running the server in-process
}

func sampleCPU(serverPID int) cpuSample {
	return cpuSample{server: cpuSeconds(serverPID), self: cpuSeconds(os.Getpid()), machine: machineBusySeconds(),
		at: time.Now(), serverIsSelf: serverPID == os.Getpid()}
}

// since returns the tool's CPU use and the rest of the machine's (neither
// the server nor the tool) from a to s, in cores.
func (s cpuSample) since(a cpuSample) (tool, other float64) {
	secs := s.at.Sub(a.at).Seconds()
	if secs <= 0 || s.machine == 0 {
		return 0, 0
	}
	self, server, machine := s.self-a.self, s.server-a.server, s.machine-a.machine
	if s.serverIsSelf {
		server = 0 // counted in self already
	}
	return self / secs, max(0, machine-self-server) / secs
}

// machineBusySeconds is the CPU time all CPUs spent not idle since boot:
// the first line of /proc/stat (clock ticks) without idle and iowait, and
// without guest time, which user time already counts.
func machineBusySeconds() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:min(len(f), 9)] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return float64(busy) / clockTicks()
}

var clockTicks = sync.OnceValue(func() float64 {
	// The kernel's USER_HZ, which /proc/PID/stat counts in. Go has no
	// sysconf; getconf asks the C library. It is 100 on every Linux
	// configuration in practice, which is the fallback.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
})
