from fastapi.testclient import TestClient


def test_clients_list_has_default_count(client: TestClient) -> None:
    response = client.get("/api/clients")
    assert response.status_code == 200
    assert len(response.json()) == 20
