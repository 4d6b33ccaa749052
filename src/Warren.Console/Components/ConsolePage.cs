using Microsoft.AspNetCore.Components;
using Warren.Server.Auth;

namespace Warren.WebConsole.Components;

/// <summary>The base of every console page: who is looking (<see cref="Viewer"/>), the gates (<see cref="RequireBrowse"/>,
/// <see cref="RequireAdmin"/>) and the answers that are not a page (<see cref="NotFound"/>, <see cref="Fail"/>). A page
/// calls a gate first in OnInitializedAsync and stops when it returns false; its markup shows
/// <c>&lt;Problem Value="Problem" /&gt;</c> when <see cref="Problem"/> is set.</summary>
public abstract class ConsolePage : ComponentBase
{
    [CascadingParameter]
    public HttpContext? HttpContext { get; set; }

    [Inject]
    protected NavigationManager Navigation { get; set; } = default!;

    /// <summary>The request being rendered (static server rendering: always there).</summary>
    protected HttpContext Http => HttpContext ?? throw new InvalidOperationException("console pages render on the server only");

    /// <summary>Who is looking: the principal and what it may read.</summary>
    protected ConsoleViewer Viewer => ConsoleAccess.Viewer(Http);

    /// <summary>Set when the page answers with an error instead of its content.</summary>
    protected ProblemInfo? Problem { get; private set; }

    /// <summary>False (and a redirect to the sign-in page) when the viewer may not see the public pages.</summary>
    protected bool RequireBrowse()
    {
        if (Viewer.MayBrowse)
        {
            return true;
        }

        var here = Http.Request.Path.Value + Http.Request.QueryString.Value;
        Navigation.NavigateTo("/ui/signin?return=" + Uri.EscapeDataString(here));
        return false;
    }

    /// <summary>False when the page is for admins and the viewer is not one (sign-in page, or 403).</summary>
    protected bool RequireAdmin()
    {
        if (!Viewer.SignedIn && Viewer.AccessControl)
        {
            var here = Http.Request.Path.Value + Http.Request.QueryString.Value;
            Navigation.NavigateTo("/ui/signin?return=" + Uri.EscapeDataString(here));
            return false;
        }

        if (Viewer.IsAdmin)
        {
            return true;
        }

        Fail(StatusCodes.Status403Forbidden, $"forbidden: this page needs an admin token (signed in as \"{Viewer.Name}\")");
        return false;
    }

    /// <summary>Answers 404 with a one-line reason (also for what exists but the viewer may not read).</summary>
    protected void NotFound(string reason) => Fail(StatusCodes.Status404NotFound, reason);

    /// <summary>Answers with this status and a one-line reason instead of the page's content.</summary>
    protected void Fail(int status, string reason)
    {
        Problem = new ProblemInfo(status, ConsoleServiceCollectionExtensions.Printable(reason));
        if (Http.Response.HasStarted)
        {
            return;
        }

        if (status == StatusCodes.Status404NotFound)
        {
            // The component renderer answers a page that set 404 itself with an empty body (it expects a not-found page
            // of the router): the status is set as the headers go out, after the page with its reason is rendered.
            var response = Http.Response;
            response.OnStarting(() =>
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        }
        else
        {
            Http.Response.StatusCode = status;
        }
    }
}

/// <summary>An error answer: its status and one-line reason.</summary>
public sealed record ProblemInfo(int Status, string Reason);
