"""The ticket API client that plugins use (``requests``). Plugins never touch the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

DEFAULT_TIMEOUT = 10.0


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

    def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        """One ticket; :class:`TicketNotFound` if there is none."""
        try:
            return self._request("GET", f"/tickets/{int(ticket_id)}").json()
        except ApiRefused as error:
            if error.status in (404, 422):
                raise TicketNotFound(ticket_id) from None
            raise

    def list_tickets(
        self,
        *,
        department: str | None = None,
        status: str | None = None,
        q: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A page of tickets, newest first: ``{"items", "total", "limit", "offset"}``."""
        params = {
            "department": department,
            "status": status,
            "q": q,
            "limit": limit,
            "offset": offset,
        }
        return self._request(
            "GET", "/tickets", params={k: v for k, v in params.items() if v is not None}
        ).json()

    def delete_ticket(self, ticket_id: int) -> None:
        """Delete a ticket; :class:`TicketNotFound` if there is none."""
        try:
            self._request("DELETE", f"/tickets/{int(ticket_id)}")
        except ApiRefused as error:
            if error.status in (404, 422):
                raise TicketNotFound(ticket_id) from None
            raise

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
