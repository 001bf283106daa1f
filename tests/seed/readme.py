"""The original pydirectus 0.2 (johind/pydirectus) as its README and tests.py use it.

The import lines, the calls and the annotations are the seed's; only placeholders are
parameters here (the server, the token, the credentials, the id of the item to update).
``tests/integration/test_seed_dropin.py`` runs every function against a real Directus, and
``tests/unit/test_seed_typing.py`` type-checks this file with ``mypy --strict``.
"""

from pydirectus import DirectusClient
from pydirectus.models import (
    Activity,
    DeepQuery,
    File,
    Filter,
    Folder,
    Item,
    NestedDeepQuery,
    Query,
)

# ## Getting Started


def getting_started(hostname: str) -> DirectusClient:
    directus = DirectusClient(hostname=hostname)
    return directus


# ### Authentication


def authentication(hostname: str, static_token: str, username: str,
                   password: str) -> DirectusClient:
    directus = DirectusClient(
        hostname=hostname,
        static_token=static_token,
        # OR
        username=username,
        password=password,
    )
    return directus


def login_only(hostname: str, username: str, password: str) -> DirectusClient:
    directus = DirectusClient(hostname=hostname, username=username, password=password)
    return directus


# ### Making a request


def making_a_request(directus: DirectusClient) -> list[Item]:
    items = directus.read_items("articles")
    return items


# #### Reading Items


def reading_items(directus: DirectusClient) -> tuple[list[Item], list[Item]]:
    # Retrieve the latest 10 items from the articles collection
    items = directus.read_items("articles", query={"limit": 10})

    # Fetch items that match specific filter criteria
    filtered_items = directus.read_items(
        collection="articles",
        query={"filter": {"author": {"_eq": "Beff Jezos"}}},
    )
    return items, filtered_items


# #### Reading an Item by ID


def reading_an_item_by_id(directus: DirectusClient) -> Item:
    item = directus.read_item(collection="articles", id="53356")
    return item


# #### Creating an Item


def creating_an_item(directus: DirectusClient) -> Item:
    new_item_data = {"field1": "value1", "field2": "value2"}
    created_item = directus.create_item("your_collection", data=new_item_data)
    return created_item


# #### Updating an Item


def updating_an_item(directus: DirectusClient, item_id: str) -> Item:
    updated_item_data = {"field1": "new_value1"}
    updated_item = directus.update_item(
        collection="your_collection", id=item_id, data=updated_item_data
    )
    return updated_item


# #### Deleting an Item


def deleting_an_item(directus: DirectusClient, item_id: str) -> None:
    directus.delete_item(collection="your_collection", id=item_id)


# ### Working with files


def working_with_files(directus: DirectusClient) -> list[File]:
    # Retrieve the latest 5 files
    files = directus.read_files(query={"limit": 5})
    return files


def registering_a_file(directus: DirectusClient) -> File:
    file_data: File = {
        "storage": "local",
        "filename_disk": "demo/big-buck-bunny.mp4",
        "filename_download": "big-buck-bunny.mp4",
        "title": "Big Buck Bunny Demo",
        "type": "video/mp4",
        "filesize": 24252243, # in bytes
        "width": 1920,
        "height": 1080,
        "duration": 596047, # in milliseconds
        "metadata": {"frame_rate": 25.0}, # optional example
    }

    created_file = directus.create_file(file_data)
    return created_file


# ## tests.py


def tests_py(hostname: str, static_token: str) -> list[Item]:
    directus = DirectusClient(
        hostname, static_token=static_token
    )

    scenes = directus.read_items(
        "scenes",
        {
            "fields": ["id", "index", "footage_in", "footage_out"],
            "limit": 10,
        },
    )

    print(scenes)
    return scenes


# ## Code annotated with the seed's TypedDicts (pydirectus.models)


def typed_query(directus: DirectusClient, collection: str, relation: str) -> list[Item]:
    by_author: Filter = {"author": {"_eq": "Beff Jezos"}}
    popular: Filter = {"_or": [by_author, {"views": {"_gte": 100}}]}
    recent_first: DeepQuery = {"_sort": ["-id"], "_limit": 2, "_filter": {"id": {"_nnull": True}}}
    deep: NestedDeepQuery = {relation: recent_first}
    query: Query = {
        "fields": ["id", "headline", "views", f"{relation}.id"],
        "filter": {"_and": [popular, {"title": {"_nempty": True}}]},
        "search": "e",
        "sort": ["-views", "id"],
        "limit": 10,
        "offset": 0,
        "deep": deep,
        "alias": {"headline": "title"},
    }
    items: list[Item] = directus.read_items(collection, query)
    return items


def file_titles(files: list[File]) -> list[str | None]:
    return [file.get("title") for file in files]


def folder_path(folder: Folder) -> str:
    parent = folder.get("parent")
    name = folder.get("name", "")
    return f"{folder_path(parent)}/{name}" if isinstance(parent, dict) else f"/{name}"


def who_did_what(activity: list[Activity]) -> list[tuple[str, str, str]]:
    return [(str(a.get("user")), a["action"], f"{a['collection']}/{a['item']}") for a in activity]
