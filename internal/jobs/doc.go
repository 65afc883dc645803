// Package jobs runs Scratchpad's background work on River, in the same
// process as the web server: the client and its queues, one file per job
// kind (an XArgs/XWorker pair), periodic jobs, and the listing and
// cancelling behind /admin/jobs and the jobs API.
package jobs
