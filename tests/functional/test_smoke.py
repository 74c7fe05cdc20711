from tests.conftest import SEED_SLUG


def test_library_lists_seed(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Russian Military Needed in Syria Long Term" in response.get_data(as_text=True)


def test_reader_page(client):
    response = client.get(f"/articles/{SEED_SLUG}")
    assert response.status_code == 200
