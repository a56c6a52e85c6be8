// The ceiling: what this machine's Kestrel serves when a stored completion costs nothing to find. It answers
// GET /c/{id} with the bytes of one stored completion held in memory, through the same routing and response path
// Cairn uses (minimal API, Content-Length, application/json), so Cairn's figures divide by a like-for-like number.
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information); // bench/run reads the port from "Now listening on"
var path = builder.Configuration["body"] ?? throw new InvalidOperationException("Pass --body FILE: the stored completion to serve.");
var body = File.ReadAllBytes(path);

var app = builder.Build();
app.MapGet("/c/{id}", async (HttpContext context, string id) =>
{
    var response = context.Response;
    response.ContentType = "application/json";
    response.ContentLength = body.Length;
    await response.BodyWriter.WriteAsync(body);
});
app.MapGet("/health", () => "ok");
app.Run();
