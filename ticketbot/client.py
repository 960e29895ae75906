"""The ticket API client that plugins use (``requests``). Plugins never touch the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

DEFAULT_TIMEOUT = 10.0
MAX_TICKET_ID = 2**63 - 1


class ApiProblem(Exception):
    """The API could not do what was asked; :meth:`message` says it to the user."""

    def message(self, language: str) -> str:
        """One sentence for the user, in ``language`` (``fr`` or ``en``)."""
        return str(self)


class ApiUnavailable(ApiProblem):
    """The API did not answer (down, unreachable, timed out)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"ticket API at {url} is unreachable: {reason}")
        self.url = url

    def message(self, language: str) -> str:
        if language == "en":
            return (
                f"The ticket service ({self.url}) is not answering right now; nothing was "
                "changed. Please try again in a moment."
            )
        return (
            f"Le service de tickets ({self.url}) ne répond pas pour le moment ; rien n'a été "
            "modifié. Réessayez dans un instant."
        )


class TicketNotFound(ApiProblem):
    """No ticket with this number (or not one this user may see)."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id

    def message(self, language: str) -> str:
        if language == "en":
            return f'I can\'t find ticket #{self.ticket_id}. Say "show my tickets" to see the list.'
        return (
            f"Je ne trouve pas le ticket n°{self.ticket_id}. Dites « liste mes tickets » pour "
            "voir la liste."
        )


class TicketChanged(ApiProblem):
    """The ticket changed since it was read (412 to an ``If-Match``); nothing was changed."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} changed since it was read")
        self.ticket_id = ticket_id

    def message(self, language: str) -> str:
        if language == "en":
            return (
                f"Ticket #{self.ticket_id} was changed by someone else in the meantime; nothing "
                "was changed. Have a look at it again, then try again."
            )
        return (
            f"Le ticket n°{self.ticket_id} a été modifié par quelqu'un d'autre entre-temps ; rien "
            "n'a été changé. Regardez-le à nouveau, puis réessayez."
        )


class ApiRefused(ApiProblem):
    """The API answered with an error (validation, permission, server error)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"ticket API answered {status}: {detail}")
        self.status = status
        self.detail = detail

    def message(self, language: str) -> str:
        if self.status == 401:
            return (
                "The ticket service refused the API key: set TICKETBOT_API_KEY to a valid key "
                "(ask your administrator, or run `ticketbot keys create`)."
                if language == "en"
                else "Le service de tickets refuse la clé d'API : définissez TICKETBOT_API_KEY "
                "avec une clé valide (demandez-la à votre administrateur, "
                "ou `ticketbot keys create`)."
            )
        if self.status == 403:
            return (
                "You are not allowed to do that with your API key."
                if language == "en"
                else "Votre clé d'API ne vous autorise pas à faire cela."
            )
        if self.status >= 500:
            return (
                f"The ticket service had a problem ({self.status}); nothing was changed. "
                "Please try again later."
                if language == "en"
                else f"Le service de tickets a rencontré un problème ({self.status}) ; rien n'a "
                "été modifié. Réessayez plus tard."
            )
        return (
            f"The ticket service refused the request: {self.detail}"
            if language == "en"
            else f"Le service de tickets a refusé la demande : {self.detail}"
        )


class ApiClient:
    """Calls the ticket API over HTTP. Every method raises :class:`ApiProblem` on failure."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session
        self._api_key = api_key

    @property
    def session(self) -> requests.Session:
        """The HTTP session (``requests`` is imported on first use: faster shell start-up)."""
        if self._session is None:
            import requests

            self._session = requests.Session()
        if self._api_key:
            self._session.headers["Authorization"] = f"Bearer {self._api_key}"
        else:
            self._session.headers.pop("Authorization", None)
        return self._session

    def use_key(self, api_key: str | None) -> None:
        """Send ``api_key`` with every request from now on (None: no key)."""
        self._api_key = api_key

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        import requests

        try:
            response = self.session.request(
                method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs
            )
        except requests.Timeout:
            raise ApiUnavailable(self.base_url, "timed out") from None
        except requests.RequestException as error:
            raise ApiUnavailable(self.base_url, type(error).__name__) from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.reason)
            except ValueError:
                detail = response.reason
            raise ApiRefused(response.status_code, str(detail))
        return response

    def create_ticket(self, title: str, description: str = "") -> dict[str, Any]:
        """Create a ticket; returns it with its department, confidence and ranking."""
        return self._request(
            "POST", "/tickets", json={"title": title, "description": description}
        ).json()

    def _on_ticket(self, method: str, ticket_id: int, path: str = "", **kwargs: Any):
        """A request about one ticket; :class:`TicketNotFound` if there is none."""
        number = int(ticket_id)
        if not 1 <= number <= MAX_TICKET_ID:
            raise TicketNotFound(ticket_id)
        try:
            return self._request(method, f"/tickets/{number}{path}", **kwargs)
        except ApiRefused as error:
            if error.status == 404:
                raise TicketNotFound(ticket_id) from None
            if error.status == 412:
                raise TicketChanged(ticket_id) from None
            raise

    def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        """One ticket; :class:`TicketNotFound` if there is none."""
        return self.get_ticket_and_etag(ticket_id)[0]

    def get_ticket_and_etag(self, ticket_id: int) -> tuple[dict[str, Any], str | None]:
        """One ticket and its ``ETag``: pass the ETag to :meth:`update_ticket` as ``if_match``
        so that a change made by someone else in between is refused, not overwritten."""
        response = self._on_ticket("GET", ticket_id)
        return response.json(), response.headers.get("ETag")

    def update_ticket(
        self, ticket_id: int, changes: dict[str, Any], if_match: str | None = None
    ) -> dict[str, Any]:
        """Change ``status``, ``priority``, ``assignee`` or ``department`` (a merge patch);
        returns the ticket. ``if_match``: the ETag read before (:class:`TicketChanged` if the
        ticket changed since)."""
        headers = {"If-Match": if_match} if if_match else {}
        return self._on_ticket("PATCH", ticket_id, json=changes, headers=headers).json()

    def add_comment(self, ticket_id: int, body: str, internal: bool = False) -> dict[str, Any]:
        """Comment on a ticket (``internal``: for agents only); returns the comment."""
        return self._on_ticket(
            "POST", ticket_id, "/comments", json={"body": body, "internal": internal}
        ).json()

    def list_comments(
        self,
        ticket_id: int,
        *,
        internal: bool | None = None,
        newest_first: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A page of a ticket's comments, oldest first unless ``newest_first``."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if internal is not None:
            params["internal"] = str(internal).lower()
        if newest_first:
            params["sort"] = "-created_at"
        return self._on_ticket("GET", ticket_id, "/comments", params=params).json()

    def last_public_comment(self, ticket_id: int) -> dict[str, Any] | None:
        """The newest comment every reader of the ticket sees, or None."""
        items = self.list_comments(ticket_id, internal=False, newest_first=True, limit=1)
        return items["items"][0] if items["items"] else None

    def list_events(self, ticket_id: int, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """A page of a ticket's history, oldest first."""
        return self._on_ticket(
            "GET", ticket_id, "/events", params={"limit": limit, "offset": offset}
        ).json()

    def list_audit(
        self, *, ticket: int | None = None, limit: int = 20, offset: int = 0
    ) -> dict[str, Any]:
        """A page of the audit log of deletions, newest first (admin keys only)."""
        params = {"ticket": ticket, "limit": limit, "offset": offset}
        return self._request(
            "GET", "/audit", params={k: v for k, v in params.items() if v is not None}
        ).json()

    def whoami(self) -> dict[str, Any]:
        """The key this client sends: ``{"name", "role"}``."""
        return self._request("GET", "/me").json()

    def list_tickets(
        self,
        *,
        department: str | None = None,
        status: str | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        created_by: str | None = None,
        needs_review: bool | None = None,
        q: str | None = None,
        sort: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A page of tickets (newest first unless ``sort``): ``{"items", "total", "limit",
        "offset"}``. ``assignee`` and ``created_by`` take a key name or ``"me"``;
        ``assignee="none"`` lists unassigned tickets."""
        params = {
            "department": department,
            "status": status,
            "priority": priority,
            "assignee": assignee,
            "created_by": created_by,
            "needs_review": None if needs_review is None else str(needs_review).lower(),
            "q": q,
            "sort": sort,
            "limit": limit,
            "offset": offset,
        }
        return self._request(
            "GET", "/tickets", params={k: v for k, v in params.items() if v is not None}
        ).json()

    def delete_ticket(self, ticket_id: int) -> None:
        """Delete a ticket; :class:`TicketNotFound` if there is none."""
        self._on_ticket("DELETE", ticket_id)

    def classify(self, text: str) -> dict[str, Any]:
        """The department the API would give ``text`` (nothing stored)."""
        return self._request("POST", "/classify", json={"text": text}).json()

    def health(self) -> dict[str, Any]:
        """The API's /health document (raises only if it cannot be reached)."""
        import requests

        try:
            response = self.session.get(f"{self.base_url}/health", timeout=self.timeout)
        except requests.RequestException as error:
            raise ApiUnavailable(self.base_url, type(error).__name__) from None
        return response.json()
