# Shares of a Cairn profile by what the CPU was doing, for bench/telemetry --profile. Reads
# `perf script -F comm,tid,ip,sym,dso` of a process recorded with call stacks (.NET's perf map on, so managed frames
# have names) and prints one line: "samples share1 share2 ...", the shares (0-1) of the samples in the order of
# `categories`. A sample goes to the first category, in that order, that its thread or any frame of its stack
# matches; a frame is matched by its method's declaring type and name (not its parameters), and async state machines'
# MoveNext and the HttpClient handlers' SendAsync are left out: they enclose the whole awaited call, not its own work.
#   perf script -i FILE -F comm,tid,ip,sym,dso | awk -f bench/scripts/telemetry-profile.awk
BEGIN {
  n = split("export scrape spans metrics logs activity jit runtime other", categories, " ")
  # OTLP: the SDK's export threads (spans and logs in batches, metrics periodically) and the exporter.
  pattern["export"] = "OpenTelemetry\\.Exporter\\.OpenTelemetryProtocol|BatchExportThreadWorker|PeriodicExportingMetricReader"
  pattern["scrape"] = "OpenTelemetry\\.Exporter\\.Prometheus"
  # Spans: the SDK's sampler and processors (a span handed to the batch), the ASP.NET Core and HttpClient instrumentations.
  pattern["spans"] = "OpenTelemetry\\.Instrumentation|OpenTelemetry\\.Trace\\.|TracerProviderSdk|ExportProcessor|CircularBuffer"
  # Metrics recorded: the SDK's aggregation, System.Diagnostics.Metrics, the platform's and Cairn's instruments.
  pattern["metrics"] = "OpenTelemetry\\.Metrics|System\\.Diagnostics\\.Metrics|HostingMetrics|KestrelMetrics|MetricsHandler|Cairn\\.Observability"
  pattern["logs"] = "OpenTelemetry\\.Logs|OpenTelemetryLogger"
  # Activities themselves: ASP.NET Core makes one per request in every configuration (its logging asks for one);
  # HttpClient's DiagnosticsHandler one per upstream call while something listens.
  pattern["activity"] = "System\\.Diagnostics\\.(Activity|DiagnosticListener|DiagnosticSource)|HostingApplicationDiagnostics|DiagnosticsHandler"
}
function frame(line,   name) {
  # "\t ip rettype [Assembly] Namespace.Type::Method(params)[tier] (dso)": keep "Namespace.Type::Method".
  name = line
  sub(/\(.*/, "", name)
  gsub(/\[[^\[\]]*\]/, "", name)
  gsub(/\[[^\[\]]*\]/, "", name)
  sub(/.* /, "", name)
  if (name ~ /::MoveNext$/ || name ~ /(MetricsHandler|DiagnosticsHandler).*::SendAsync/) return ""
  return name
}
function classify(   i) {
  if (comm ~ /^OpenTelemetry/) return "export"
  for (i = 1; i <= 6; i++) if (names ~ pattern[categories[i]]) return categories[i]
  if (comm ~ /Tiered Com/ || leaf ~ /libclrjit/) return "jit"
  # Native runtime at the top of the stack: mostly the garbage collector (libcoreclr has no symbols to tell).
  if (leaf ~ /libcoreclr|libclrgc/) return "runtime"
  return "other"
}
function flush() {
  if (comm != "") { count[classify()]++; total++ }
  comm = ""; names = ""; leaf = ""
}
/^\t/ { if (leaf == "") leaf = $0; names = names "\n" frame($0); next }
/^[ \t]*$/ { flush(); next }
{ flush(); comm = $0; sub(/[ \t]+[0-9]+[ \t]*$/, "", comm) }
END {
  flush()
  printf "%d", total
  for (i = 1; i <= n; i++) printf " %.4f", (total ? count[categories[i]] / total : 0)
  printf "\n"
}
