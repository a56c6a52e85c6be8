using System.Runtime.InteropServices;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Cairn.Llama;

/// <summary>
/// The few llama.cpp calls LLamaSharp does not expose safely (a grammar sampler whose creation can be checked),
/// bound to the native library LLamaSharp has already loaded, and the routing of llama.cpp's log into an ILogger.
/// </summary>
internal static unsafe partial class LlamaNative
{
    private const string Library = "llama";
    private static readonly Lock Gate = new();
    private static ILogger? logger;
    private static bool hooked;

    static LlamaNative()
    {
        // LLamaSharp loads libllama from its runtimes folder; asking for the same soname again returns that handle.
        NativeLibrary.SetDllImportResolver(typeof(LlamaNative).Assembly, static (name, _, _) =>
            name == Library && NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "llama.dll" : OperatingSystem.IsMacOS() ? "libllama.dylib" : "libllama.so", out var handle)
                ? handle
                : IntPtr.Zero);
    }

    /// <summary>
    /// Sends llama.cpp's messages to <paramref name="log"/> (at Debug, warnings and errors at Warning) instead of
    /// stderr. Must run before anything touches the native library; later calls only change the target.
    /// </summary>
    public static void RouteLog(ILogger log)
    {
        lock (Gate)
        {
            logger = log;
            if (hooked)
            {
                return;
            }
            hooked = true;
            if (NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                NativeLogConfig.llama_log_set(Forward);
            }
            else
            {
                NativeLibraryConfig.All.WithLogCallback(Forward);
            }
        }
    }

    private static void Forward(LLamaLogLevel level, string message)
    {
        var target = logger;
        if (target is null || level is LLamaLogLevel.Continue or LLamaLogLevel.None)
        {
            return; // progress dots and continuations carry nothing worth a line
        }
        var mapped = level switch
        {
            LLamaLogLevel.Error or LLamaLogLevel.Warning => LogLevel.Warning,
            LLamaLogLevel.Info => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        if (target.IsEnabled(mapped))
        {
            var line = message.TrimEnd();
            LlamaLog.Native(target, mapped, line);
        }
    }

    [LibraryImport(Library, EntryPoint = "llama_model_get_vocab")]
    public static partial IntPtr ModelVocab(IntPtr model);

    /// <summary>A grammar sampler, or <see cref="IntPtr.Zero"/> when llama.cpp cannot parse the grammar.</summary>
    [LibraryImport(Library, EntryPoint = "llama_sampler_init_grammar", StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr InitGrammar(IntPtr vocab, string grammar, string root);

    [LibraryImport(Library, EntryPoint = "llama_sampler_apply")]
    public static partial void Apply(IntPtr sampler, TokenDataArray* candidates);

    [LibraryImport(Library, EntryPoint = "llama_sampler_accept")]
    public static partial void Accept(IntPtr sampler, int token);

    [LibraryImport(Library, EntryPoint = "llama_sampler_free")]
    public static partial void Free(IntPtr sampler);

    /// <summary>llama_token_data.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TokenData
    {
        public int Id;
        public float Logit;
        public float P;
    }

    /// <summary>llama_token_data_array.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TokenDataArray
    {
        public TokenData* Data;
        public nuint Size;
        public long Selected;
        public byte Sorted;
    }
}
