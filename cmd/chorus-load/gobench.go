package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// benchResult is one Go benchmark's custom metrics, by unit.
type benchResult map[string]float64

// goBench runs the curation benchmarks on one core (-cpu 1) in the module
// at dir and returns each benchmark's metrics by name.
func goBench(ctx context.Context, dir, pattern, benchtime string) (map[string]benchResult, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime,
		"-cpu", "1", "-count", "1", "./curation")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out.String())
	}
	res := map[string]benchResult{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		r := benchResult{}
		// name N value unit value unit ...
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				r[f[i+1]] = v
			}
		}
		res[f[0]] = r
	}
	return res, sc.Err()
}
