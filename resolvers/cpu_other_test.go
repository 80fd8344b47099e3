//go:build !unix

package resolvers_test

import "time"

// processCPU returns 0 where the process's CPU time is not read: the benchmarks then
// report no CPU figures.
func processCPU() time.Duration { return 0 }
