"""Text classification shared by the department and intent models.

Training uses scikit-learn; the saved model is a compiled, numpy-only form of the fitted
TF-IDF + logistic-regression pipeline, so loading it does not import scikit-learn (about one
second saved at start-up) and a prediction costs tens of microseconds.
"""
