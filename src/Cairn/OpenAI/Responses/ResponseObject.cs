using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// The response object (<c>"object":"response"</c>) as the live API writes it: <c>id, object, created_at, status</c>,
/// then every other key alphabetically, <c>metadata</c> last; the request echoed with its defaults filled in.
/// </summary>
internal sealed class ResponseObject
{
    private ResponseObject(ResponseRequest request, string id, long createdAt, string model)
    {
        Request = request;
        Id = id;
        CreatedAt = createdAt;
        Model = model;
    }

    public ResponseRequest Request { get; }
    public string Id { get; }
    public long CreatedAt { get; }
    public string Model { get; private set; }

    /// <summary><c>in_progress</c> until <see cref="Complete"/> or <see cref="Fail"/>.</summary>
    public string Status { get; private set; } = "in_progress";

    public ResponseOutcome? Outcome { get; private set; }

    /// <summary>A response being answered: <c>in_progress</c>, <c>output:[]</c>, <c>usage:null</c>.</summary>
    public static ResponseObject Start(ResponseRequest request, string id, long createdAt) => new(request, id, createdAt, request.Model);

    /// <summary>Finished: status, output, usage and the answering model from <paramref name="outcome"/>; <c>completed_at</c>.</summary>
    public void Complete(ResponseOutcome outcome, long completedAt) => throw new NotImplementedException();

    /// <summary>Failed: <c>status:"failed"</c>, <c>error:{code, message}</c>.</summary>
    public void Fail(string code, string message) => throw new NotImplementedException();

    public void Write(Utf8JsonWriter writer) => throw new NotImplementedException();

    public byte[] ToUtf8() => throw new NotImplementedException();
}
