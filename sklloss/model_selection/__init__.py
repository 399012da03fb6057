"""Model selection with sklloss's SGD estimators: scikit-learn's searches, with the
candidates of each fold fitted together."""
from ._search import GridSearchCV, RandomizedSearchCV

__all__ = ["GridSearchCV", "RandomizedSearchCV"]
