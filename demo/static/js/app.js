document.documentElement.dataset.cachekiller = "loaded";
